package lenet.contract.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/** Which events the scoring hot path reads itself, and which it leaves to the tree reader. */
class PlainImageReaderTest {

  private static final String PIXELS = "[" + String.join(",", Collections.nCopies(784, "9")) + "]";

  /** Background (runs of 0, read by a shortcut) around a few strokes, as MNIST digits are. */
  private static String digit(int count) {
    StringBuilder s = new StringBuilder("[");
    for (int p = 0; p < count; p++) {
      s.append(p > 0 ? "," : "").append(p % 97 == 5 || p == count - 1 ? p % 256 : 0);
    }
    return s.append(']').toString();
  }

  private static ImageEvent plain(String json) {
    return ImageEvent.plain(json.getBytes(StandardCharsets.UTF_8), "key");
  }

  @Test
  void readsTheEventsProducersWrite() {
    assertThat(plain("{\"id\":\"a\",\"pixels\":" + PIXELS + "}"))
        .isEqualTo(
            ImageEvent.decode(("{\"id\":\"a\",\"pixels\":" + PIXELS + "}").getBytes(), null));
    assertThat(plain("{\"pixels\":" + PIXELS + "}").id()).isEqualTo("key");
    assertThat(plain(" { \"pixels\" : " + PIXELS.replace(",", ", ") + " , \"id\" : null } ").id())
        .isEqualTo("key");
    assertThat(
            plain(
                new String(
                    ImageEvent.ofPixels("x", new int[784]).encode(), StandardCharsets.UTF_8)))
        .as("what ImageEvent.encode writes")
        .isNotNull();
    for (String pixels : new String[] {digit(784), "[" + "0,".repeat(783) + "0]"}) {
      String json = "{\"id\":\"d\",\"pixels\":" + pixels + "}";
      assertThat(plain(json)).as(pixels).isEqualTo(ImageEvent.decode(json.getBytes(), null));
    }
  }

  @Test
  void rawEventsAre784BytesOnePerPixel() {
    byte[] raw = new byte[784];
    raw[0] = (byte) 255;
    raw[783] = 7;
    ImageEvent e = ImageEvent.ofRaw("r", raw);
    assertThat(e.pixels()[0]).isEqualTo(255);
    assertThat(e.pixels()[783]).isEqualTo(7);
    for (int size : new int[] {783, 785, 28}) {
      WireFormatException bad =
          org.junit.jupiter.api.Assertions.assertThrows(
              WireFormatException.class, () -> ImageEvent.ofRaw("r", new byte[size]));
      assertThat(bad.reason()).isEqualTo(WireFormatException.Reason.WRONG_PIXEL_COUNT);
      assertThat(bad.getMessage()).contains("got " + size);
    }
    assertThat(
            org.junit.jupiter.api.Assertions.assertThrows(
                    WireFormatException.class, () -> ImageEvent.ofRaw("r", new byte[0]))
                .reason())
        .isEqualTo(WireFormatException.Reason.EMPTY);
  }

  @Test
  void leavesEverythingElseToTheTreeReader() {
    for (String json :
        new String[] {
          "{\"png\":\"iVBO\"}",
          "{\"id\":\"a\\\"b\",\"pixels\":" + PIXELS + "}",
          "{\"pixels\":" + PIXELS.replace("[9,", "[09,") + "}",
          "{\"pixels\":" + PIXELS.replace("[9,", "[9.0,") + "}",
          "{\"pixels\":" + PIXELS.replace("[9,", "[256,") + "}",
          "{\"pixels\":" + PIXELS.replace("[9,", "[-1,") + "}",
          "{\"pixels\":" + PIXELS.replace("[9,", "[") + "}",
          "{\"pixels\":" + PIXELS.replace("]", ",9]") + "}",
          "{\"pixels\":" + PIXELS + ",\"pixels\":" + PIXELS + "}",
          "{\"pixels\":" + PIXELS + ",\"extra\":1}",
          "{\"pixels\":" + PIXELS + "} trailing",
          "{\"pixels\":" + PIXELS,
          "{\"pixels\":" + digit(783) + "}",
          "{\"pixels\":" + digit(785) + "}",
          "{\"pixels\":[" + "0,".repeat(784) + "0]}",
          "{\"pixels\":[" + "0,".repeat(783) + "]}",
          "[]"
        }) {
      assertThat(plain(json)).as(json.length() > 60 ? json.substring(0, 60) : json).isNull();
    }
  }
}
