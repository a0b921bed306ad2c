package lenet.model;

import ai.djl.ndarray.types.Shape;
import lenet.contract.wire.ImageEvent;

/**
 * LeNet-5's first convolution (6 filters of 5x5, zero padding 2) and its 2x2 average pooling as a
 * 3x3 convolution over 2x2 phases, the layout inference ({@link LeNet5Inference}) and training both
 * compute it in. A 1-channel 5x5 convolution is the worst shape for oneDNN; this one is 4 to 24
 * channels.
 *
 * <ul>
 *   <li>The input, zero-padded to 32x32, is given as its four 2x2-phase planes of 16x16 ({@link
 *       #spaceToDepth}): plane {@code 2u+v} holds padded pixel {@code (2r+u, 2s+v)} at {@code (r,
 *       s)}.
 *   <li>Output channel {@code (2a+b)*6 + c} is filter c at position (a, b) of every 2x2 pooling
 *       window, 14x14 of them: the convolution's output at {@code (2i+a, 2j+b)}, reading the four
 *       planes with a 3x3 kernel whose entries are the filter's 5x5 weights ({@link #kernelIndex})
 *       or 0.
 *   <li>Per-channel operations before the pooling (BatchNorm, ReLU) apply to each phase group
 *       alike; the average pooling is then the mean of the four groups.
 * </ul>
 */
public final class Conv1Phases {

  /** Side of the padded input's phase planes: (28 + 2*2) / 2. */
  public static final int SIDE = (ImageEvent.SIDE + 2 * 2) / 2;

  /** Floats per image in the phase layout: 4 planes of 16x16. */
  public static final int IMAGE_SIZE = 4 * SIDE * SIDE;

  /** The first convolution's filters. */
  public static final int FILTERS = 6;

  /** Side of the output planes, the pooled map's side (14). */
  public static final int POOLED_SIDE = ImageEvent.SIDE / 2;

  /** The phase kernel: [4 positions x 6 filters][4 planes][3][3]. */
  public static final Shape KERNEL_SHAPE = new Shape(4 * FILTERS, 4, 3, 3);

  private static final int[] INDEX = buildIndex();

  private Conv1Phases() {}

  /**
   * For each entry of the phase kernel (row-major in {@link #KERNEL_SHAPE}), the index of the 5x5
   * weight it holds in the convolution's weight array [6][1][5][5] flattened ({@code c*25 + di*5 +
   * dj}), or -1 where it is 0.
   */
  public static int[] kernelIndex() {
    return INDEX.clone();
  }

  private static int[] buildIndex() {
    int[] index = new int[(int) KERNEL_SHAPE.size()];
    java.util.Arrays.fill(index, -1);
    for (int a = 0; a < 2; a++) {
      for (int b = 0; b < 2; b++) {
        for (int c = 0; c < FILTERS; c++) {
          int o = (2 * a + b) * FILTERS + c;
          for (int u = 0; u < 2; u++) {
            for (int v = 0; v < 2; v++) {
              for (int qr = 0; qr < 3; qr++) {
                for (int qs = 0; qs < 3; qs++) {
                  int di = 2 * qr + u - a;
                  int dj = 2 * qs + v - b;
                  if (di >= 0 && di <= 4 && dj >= 0 && dj <= 4) {
                    index[((o * 4 + 2 * u + v) * 3 + qr) * 3 + qs] = c * 25 + di * 5 + dj;
                  }
                }
              }
            }
          }
        }
      }
    }
    return index;
  }

  /**
   * Writes the 28x28 image at {@code image[from..from+784)}, zero-padded to 32x32, as its four
   * 2x2-phase planes at {@code out[offset..offset+1024)}. Only the image's pixels are written: the
   * padding positions must already hold 0 (a fresh or zeroed array).
   */
  public static void spaceToDepth(float[] image, int from, float[] out, int offset) {
    int plane = SIDE * SIDE;
    int side = ImageEvent.SIDE;
    for (int y = 0; y < side; y++) {
      int py = y + 2;
      int rowBase = offset + (py & 1) * 2 * plane + (py >> 1) * SIDE;
      for (int x = 0; x < side; x++) {
        int px = x + 2;
        out[rowBase + (px & 1) * plane + (px >> 1)] = image[from + y * side + x];
      }
    }
  }
}
