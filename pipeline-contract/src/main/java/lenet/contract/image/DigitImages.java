package lenet.contract.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * Brings images as people have them to the form MNIST digits have: white digit on black, its box
 * scaled to 20x20 keeping the aspect ratio, centred by mass in 28x28, values in [0,1]. JDK only
 * (ImageIO), headless.
 */
public final class DigitImages {

  static {
    // No display on a server; ImageIO must never try to open one, nor write its cache to disk.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    ImageIO.setUseCache(false);
  }

  /** The digit's box is scaled to fit this square, as in MNIST. */
  static final int BOX = 20;

  private static final int SIDE = ImageEvent.SIDE;

  private DigitImages() {}

  /** Model input of an event: its pixels / 255, or its decoded image brought to MNIST form. */
  public static float[] toInput(ImageEvent event, long maxPixels) {
    return event.pixels() != null
        ? fromPixels(event.pixels())
        : fromEncoded(event.encodedImage(), maxPixels);
  }

  /** 784 values 0..255, already in MNIST form, as the network's [0,1] input. */
  public static float[] fromPixels(int[] pixels) {
    float[] out = new float[pixels.length];
    for (int i = 0; i < pixels.length; i++) {
      out[i] = pixels[i] / 255f;
    }
    return out;
  }

  /**
   * Decodes a PNG or JPEG (any size ImageIO reads) and brings it to MNIST form.
   *
   * @throws WireFormatException UNDECODABLE_IMAGE, or TOO_LARGE beyond {@code maxPixels}
   */
  public static float[] fromEncoded(byte[] bytes, long maxPixels) {
    return toMnist(grayscale(decode(bytes, maxPixels)));
  }

  static BufferedImage decode(byte[] bytes, long maxPixels) {
    if (bytes == null || bytes.length == 0) {
      throw new WireFormatException(Reason.UNDECODABLE_IMAGE, "the image has zero bytes");
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new WireFormatException(
            Reason.UNDECODABLE_IMAGE,
            "the image is not a PNG or JPEG (first bytes " + hexHead(bytes) + ")");
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        // Checked from the header, before decoding: a small file can declare a huge canvas.
        long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
        if (pixels > maxPixels) {
          throw new WireFormatException(
              Reason.TOO_LARGE,
              "the image is "
                  + reader.getWidth(0)
                  + "x"
                  + reader.getHeight(0)
                  + " = "
                  + pixels
                  + " pixels, the limit is "
                  + maxPixels);
        }
        BufferedImage image = reader.read(0);
        if (image == null || image.getWidth() == 0 || image.getHeight() == 0) {
          throw new WireFormatException(Reason.UNDECODABLE_IMAGE, "the image decodes to nothing");
        }
        return image;
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof WireFormatException w) {
        throw w;
      }
      // ImageIO reports broken files with IOExceptions and, for some corruptions, runtime
      // exceptions.
      throw new WireFormatException(
          Reason.UNDECODABLE_IMAGE,
          "the image cannot be decoded: " + e.getClass().getSimpleName() + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * Luma 0..255 per pixel, transparent parts composited over white (a drawing on a transparent
   * canvas).
   */
  static int[][] grayscale(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    int[][] gray = new int[h][w];
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      image.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int argb = row[x];
        int a = argb >>> 24;
        double luma =
            0.299 * ((argb >> 16) & 0xFF) + 0.587 * ((argb >> 8) & 0xFF) + 0.114 * (argb & 0xFF);
        gray[y][x] = (int) Math.round((luma * a + 255.0 * (255 - a)) / 255.0);
      }
    }
    return gray;
  }

  /**
   * MNIST form of a grayscale image: ink made bright on dark (inverted when the border is light),
   * background removed, cropped to the ink's box, scaled to fit 20x20 by area averaging, centred by
   * mass in 28x28.
   */
  static float[] toMnist(int[][] gray) {
    int h = gray.length;
    int w = gray[0].length;
    double border = borderMean(gray);
    boolean invert = border > 127;
    double background = invert ? 255 - border : border;
    double[][] ink = new double[h][w];
    double max = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double v = invert ? 255 - gray[y][x] : gray[y][x];
        ink[y][x] = Math.max(0, v - background);
        max = Math.max(max, ink[y][x]);
      }
    }
    float[] out = new float[SIDE * SIDE];
    if (max < 1e-9) {
      return out; // a blank image: nothing to centre
    }
    // Stretch to the full range and drop faint noise (JPEG ringing, paper texture) from the box.
    int top = h;
    int bottom = -1;
    int left = w;
    int right = -1;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        ink[y][x] = ink[y][x] / max;
        if (ink[y][x] > 0.2) {
          top = Math.min(top, y);
          bottom = Math.max(bottom, y);
          left = Math.min(left, x);
          right = Math.max(right, x);
        }
      }
    }
    int boxW = right - left + 1;
    int boxH = bottom - top + 1;
    double scale = (double) BOX / Math.max(boxW, boxH);
    int outW = Math.max(1, (int) Math.round(boxW * scale));
    int outH = Math.max(1, (int) Math.round(boxH * scale));
    double[][] scaled = areaResample(ink, left, top, boxW, boxH, outW, outH);

    double mass = 0;
    double cx = 0;
    double cy = 0;
    for (int y = 0; y < outH; y++) {
      for (int x = 0; x < outW; x++) {
        mass += scaled[y][x];
        cx += x * scaled[y][x];
        cy += y * scaled[y][x];
      }
    }
    cx /= mass;
    cy /= mass;
    int dx = (int) Math.round(SIDE / 2.0 - cx);
    int dy = (int) Math.round(SIDE / 2.0 - cy);
    for (int y = 0; y < outH; y++) {
      for (int x = 0; x < outW; x++) {
        int tx = x + dx;
        int ty = y + dy;
        if (tx >= 0 && tx < SIDE && ty >= 0 && ty < SIDE) {
          out[ty * SIDE + tx] = (float) Math.min(1.0, scaled[y][x]);
        }
      }
    }
    return out;
  }

  private static double borderMean(int[][] gray) {
    int h = gray.length;
    int w = gray[0].length;
    double sum = 0;
    int n = 0;
    for (int x = 0; x < w; x++) {
      sum += gray[0][x] + gray[h - 1][x];
      n += 2;
    }
    for (int y = 1; y < h - 1; y++) {
      sum += gray[y][0] + gray[y][w - 1];
      n += 2;
    }
    return sum / n;
  }

  /**
   * Resamples a box of {@code src} to {@code outW x outH}: each output pixel is the mean of the
   * source area it covers, fractional edges weighted (exact area averaging; for enlargement it
   * degrades gracefully to nearest).
   */
  static double[][] areaResample(
      double[][] src, int left, int top, int w, int h, int outW, int outH) {
    double[][] out = new double[outH][outW];
    double sx = (double) w / outW;
    double sy = (double) h / outH;
    for (int oy = 0; oy < outH; oy++) {
      double y0 = oy * sy;
      double y1 = y0 + sy;
      for (int ox = 0; ox < outW; ox++) {
        double x0 = ox * sx;
        double x1 = x0 + sx;
        double sum = 0;
        for (int y = (int) Math.floor(y0); y < Math.min(h, (int) Math.ceil(y1)); y++) {
          double wy = Math.min(y1, y + 1) - Math.max(y0, y);
          if (wy <= 0) {
            continue;
          }
          for (int x = (int) Math.floor(x0); x < Math.min(w, (int) Math.ceil(x1)); x++) {
            double wx = Math.min(x1, x + 1) - Math.max(x0, x);
            if (wx > 0) {
              sum += src[top + y][left + x] * wx * wy;
            }
          }
        }
        out[oy][ox] = sum / (sx * sy);
      }
    }
    return out;
  }

  private static String hexHead(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(8, bytes.length); i++) {
      s.append(String.format("%02x", bytes[i] & 0xFF));
    }
    return s.toString();
  }
}
