package lenet.inference.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import lenet.contract.image.DigitImages;
import lenet.contract.wire.WireFormatException;
import lenet.inference.TestModels;
import org.junit.jupiter.api.Test;

/**
 * Real MNIST digits, photographed large and off centre, come back close to their original 28x28
 * form ({@link DigitImages} is the contract's, shared with the trainer; tested here, where the
 * MNIST files are at hand).
 */
class DigitImagesTest {

  private static final long LIMIT = 16L << 20;

  @Test
  void largeDarkOnLightDigitsComeBackToTheirMnistForm() {
    double sum = 0;
    for (int i = 0; i < 50; i++) {
      byte[] png = TestModels.render(i, 240, 6, 10 + i, 60 - i, "png");
      float[] restored = DigitImages.fromEncoded(png, LIMIT);
      double similarity = cosine(restored, DigitImages.fromPixels(TestModels.pixels(i)));
      assertThat(similarity).as("digit %d", i).isGreaterThan(0.7);
      sum += similarity;
    }
    assertThat(sum / 50).as("mean cosine similarity to the originals").isGreaterThan(0.9);
  }

  @Test
  void resultIsTwentyPixelsAtMostAndCentredByMass() {
    float[] x = DigitImages.fromEncoded(TestModels.render(4, 400, 12, 0, 0, "png"), LIMIT);
    int top = 28;
    int bottom = -1;
    int left = 28;
    int right = -1;
    double mass = 0;
    double cx = 0;
    double cy = 0;
    float max = 0;
    for (int p = 0; p < 784; p++) {
      if (x[p] > 0) {
        top = Math.min(top, p / 28);
        bottom = Math.max(bottom, p / 28);
        left = Math.min(left, p % 28);
        right = Math.max(right, p % 28);
      }
      mass += x[p];
      cx += (p % 28) * x[p];
      cy += (p / 28) * x[p];
      max = Math.max(max, x[p]);
    }
    assertThat(Math.max(bottom - top + 1, right - left + 1)).isEqualTo(20);
    assertThat(cx / mass).isCloseTo(14.0, org.assertj.core.data.Offset.offset(1.0));
    assertThat(cy / mass).isCloseTo(14.0, org.assertj.core.data.Offset.offset(1.0));
    assertThat(max).isGreaterThan(0.9f);
  }

  @Test
  void whiteOnBlackIsNotInvertedAndTransparentCanvasReadsAsWhitePaper() throws IOException {
    float[] original = DigitImages.fromPixels(TestModels.pixels(7));
    BufferedImage light =
        ImageIO.read(new java.io.ByteArrayInputStream(TestModels.render(7, 200, 5, 30, 30, "png")));
    BufferedImage dark = new BufferedImage(200, 200, BufferedImage.TYPE_INT_RGB);
    BufferedImage transparent = new BufferedImage(200, 200, BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < 200; y++) {
      for (int x = 0; x < 200; x++) {
        int v = light.getRGB(x, y) & 0xFF;
        dark.setRGB(x, y, new Color(255 - v, 255 - v, 255 - v).getRGB());
        transparent.setRGB(
            x, y, new Color(0, 0, 0, 255 - v).getRGB()); // black ink, alpha = darkness
      }
    }
    assertThat(cosine(DigitImages.fromEncoded(png(dark), LIMIT), original)).isGreaterThan(0.8);
    assertThat(cosine(DigitImages.fromEncoded(png(transparent), LIMIT), original))
        .isGreaterThan(0.8);
  }

  @Test
  void blankImagesAreBlankAndBrokenOnesAreRefused() throws IOException {
    BufferedImage white = new BufferedImage(50, 30, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = white.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, 50, 30);
    g.dispose();
    assertThat(DigitImages.fromEncoded(png(white), LIMIT)).containsOnly(0f);

    assertThatThrownBy(() -> DigitImages.fromEncoded("plain text".getBytes(), LIMIT))
        .isInstanceOf(WireFormatException.class)
        .extracting(e -> ((WireFormatException) e).reason())
        .isEqualTo(WireFormatException.Reason.UNDECODABLE_IMAGE);
    assertThatThrownBy(
            () ->
                DigitImages.fromEncoded(
                    png(new BufferedImage(300, 300, BufferedImage.TYPE_BYTE_BINARY)), 10_000))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("300x300 = 90000 pixels, the limit is 10000");
  }

  private static byte[] png(BufferedImage image) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
