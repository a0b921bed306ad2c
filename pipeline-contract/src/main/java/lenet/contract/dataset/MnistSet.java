package lenet.contract.dataset;

/**
 * One MNIST file pair as stored: {@code count} images of 28x28 unsigned bytes (row-major, white
 * digit on black) and their labels 0..9.
 */
public record MnistSet(String name, byte[] images, byte[] labels) {

  public static final int ROWS = 28;
  public static final int COLS = 28;
  public static final int IMAGE_BYTES = ROWS * COLS;

  public int count() {
    return labels.length;
  }

  /** Pixel {@code p} of image {@code i} as 0..255. */
  public int pixel(int i, int p) {
    return images[i * IMAGE_BYTES + p] & 0xFF;
  }

  /** The first {@code n} images (for small, real test data). */
  public MnistSet head(int n) {
    int k = Math.min(n, count());
    byte[] img = new byte[k * IMAGE_BYTES];
    System.arraycopy(images, 0, img, 0, img.length);
    byte[] lab = new byte[k];
    System.arraycopy(labels, 0, lab, 0, k);
    return new MnistSet(name, img, lab);
  }

  public int[] labelCounts() {
    int[] counts = new int[10];
    for (byte l : labels) {
      counts[l]++;
    }
    return counts;
  }
}
