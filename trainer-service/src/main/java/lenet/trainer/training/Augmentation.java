package lenet.trainer.training;

import java.util.Random;
import lenet.contract.wire.DatasetBatch;

/**
 * Random distortions of training images, fresh per image and epoch from the run's seed: a shift of
 * up to {@code shift} pixels, a rotation of up to {@code rotationDegrees}, a zoom of up to {@code
 * zoom} (0.1 = ±10%), sampled bilinearly with black outside the image. The network overfits MNIST
 * within a few epochs (100% training accuracy) without them; they are what lifts test accuracy past
 * the tutorial's.
 */
public record Augmentation(int shift, double rotationDegrees, double zoom) {

  public static final Augmentation NONE = new Augmentation(0, 0, 0);

  private static final int SIDE = DatasetBatch.COLS;
  private static final double CENTRE = (SIDE - 1) / 2.0;

  /**
   * Writes a distorted copy of the image at {@code from[fromOffset..]} to {@code to[toOffset..]}.
   */
  public void apply(float[] from, int fromOffset, float[] to, int toOffset, Random random) {
    if (equals(NONE)) {
      System.arraycopy(from, fromOffset, to, toOffset, DatasetBatch.IMAGE_SIZE);
      return;
    }
    // Draw only for the distortions in use, so a shift-only run repeats exactly across versions.
    double angle =
        rotationDegrees == 0 ? 0 : Math.toRadians((random.nextDouble() * 2 - 1) * rotationDegrees);
    double scale = zoom == 0 ? 1 : 1 + (random.nextDouble() * 2 - 1) * zoom;
    int dx = shift == 0 ? 0 : random.nextInt(2 * shift + 1) - shift;
    int dy = shift == 0 ? 0 : random.nextInt(2 * shift + 1) - shift;
    if (angle == 0 && scale == 1) {
      shifted(from, fromOffset, to, toOffset, dx, dy);
    } else {
      sampled(from, fromOffset, to, toOffset, angle, scale, dx, dy);
    }
  }

  /**
   * A whole-pixel shift, black filling in: what {@link #sampled} computes for it (bilinear weights
   * of exactly 1 and 0), as row copies, a tenth of the time (0.3 s of every epoch on 2 cores).
   */
  static void shifted(float[] from, int fromOffset, float[] to, int toOffset, int dx, int dy) {
    java.util.Arrays.fill(to, toOffset, toOffset + DatasetBatch.IMAGE_SIZE, 0f);
    int c0 = Math.max(0, dx);
    int width = SIDE - Math.abs(dx);
    for (int r = Math.max(0, dy); r < Math.min(SIDE, SIDE + dy); r++) {
      System.arraycopy(
          from, fromOffset + (r - dy) * SIDE + (c0 - dx), to, toOffset + r * SIDE + c0, width);
    }
  }

  /** Rotation, zoom and shift by inverse mapping, sampled bilinearly. */
  static void sampled(
      float[] from,
      int fromOffset,
      float[] to,
      int toOffset,
      double angle,
      double scale,
      int dx,
      int dy) {
    // Inverse mapping: for each output pixel, where in the source it comes from.
    double cos = Math.cos(angle) / scale;
    double sin = Math.sin(angle) / scale;
    for (int r = 0; r < SIDE; r++) {
      for (int c = 0; c < SIDE; c++) {
        double x = c - CENTRE - dx;
        double y = r - CENTRE - dy;
        double sx = cos * x + sin * y + CENTRE;
        double sy = -sin * x + cos * y + CENTRE;
        to[toOffset + r * SIDE + c] = bilinear(from, fromOffset, sx, sy);
      }
    }
  }

  private static float bilinear(float[] image, int offset, double x, double y) {
    int x0 = (int) Math.floor(x);
    int y0 = (int) Math.floor(y);
    double fx = x - x0;
    double fy = y - y0;
    double top = pixel(image, offset, x0, y0) * (1 - fx) + pixel(image, offset, x0 + 1, y0) * fx;
    double bottom =
        pixel(image, offset, x0, y0 + 1) * (1 - fx) + pixel(image, offset, x0 + 1, y0 + 1) * fx;
    return (float) (top * (1 - fy) + bottom * fy);
  }

  private static float pixel(float[] image, int offset, int x, int y) {
    return x < 0 || y < 0 || x >= SIDE || y >= SIDE ? 0f : image[offset + y * SIDE + x];
  }
}
