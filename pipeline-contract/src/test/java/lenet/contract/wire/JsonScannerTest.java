package lenet.contract.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The hand-written reader of the hot paths: it reads what Jackson reads, or declines. */
class JsonScannerTest {

  private static JsonScanner scanner(String json) {
    return new JsonScanner(json.getBytes(StandardCharsets.UTF_8));
  }

  /** The numbers {@link JsonScanner#numbers} reads from {@code json}, or null when it declines. */
  private static List<Double> numbers(String json) {
    List<Double> out = new ArrayList<>();
    JsonScanner in = scanner(json);
    int n = in.numbers(out::add);
    return n >= 0 && in.atEnd() && n == out.size() ? out : null;
  }

  /** The same numbers as Jackson reads them (as doubles, the way the tree readers use them). */
  private static List<Double> jackson(String json) throws Exception {
    List<Double> out = new ArrayList<>();
    collect(Json.MAPPER.readTree(json), out);
    return out;
  }

  private static void collect(JsonNode node, List<Double> out) {
    if (node.isArray()) {
      node.forEach(n -> collect(n, out));
    } else {
      out.add(node.doubleValue());
    }
  }

  @Test
  void readsEveryNumberAsJacksonDoes() throws Exception {
    Random random = new Random(7);
    List<String> texts = new ArrayList<>();
    for (int k = 0; k < 20_000; k++) {
      float f = random.nextFloat();
      double d = random.nextDouble() * Math.pow(10, random.nextInt(40) - 20);
      texts.add(Float.toString(f)); // float32 as Java prints it, e.g. 1.2345E-5
      texts.add(Double.toString(f)); // a float32 widened: 17 significant digits
      texts.add(Double.toString(d));
      texts.add(String.format("%.7f", f)); // fixed decimals, trailing zeros
      texts.add(Integer.toString(random.nextInt(256)));
      texts.add("-" + Double.toString(d));
      texts.add(String.format("%de%d", random.nextInt(1000), random.nextInt(60) - 30));
    }
    texts.addAll(
        List.of(
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1E2",
            "1e+2",
            "1e-2",
            "123456789012345678901234567890",
            "9007199254740993",
            "0.1",
            "1e400",
            "4.9e-324",
            "0.30000000000000004",
            "255",
            "1.0"));
    String json = "[" + String.join(", ", texts) + "]";
    List<Double> ours = numbers(json);
    List<Double> theirs = jackson(json);
    assertThat(ours).hasSize(theirs.size());
    for (int i = 0; i < ours.size(); i++) {
      // Bit for bit: the same double, the sign of zero included.
      assertThat(Double.doubleToRawLongBits(ours.get(i)))
          .as("%s", texts.get(i))
          .isEqualTo(Double.doubleToRawLongBits(theirs.get(i)));
    }
  }

  @Test
  void readsNestedArraysInDocumentOrder() {
    assertThat(numbers("[[1, 2], [[3]], [], 4]")).containsExactly(1.0, 2.0, 3.0, 4.0);
    assertThat(numbers(" [ ] ")).isEmpty();
    // Runs of zeros (an image's background) take a shortcut; what follows them reads as ever
    // ("-0" is the integer 0, as Jackson reads it).
    assertThat(numbers("[0,0,0,7,0,0.5,0,-0,0 ,0,[0,0],255,0]"))
        .containsExactly(0.0, 0.0, 0.0, 7.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 255.0, 0.0);
  }

  @Test
  void declinesWhatIsNotAnArrayOfNumbers() {
    for (String json :
        new String[] {
          "[01]",
          "[00,1]",
          "[0,]",
          "[0,0,",
          "[0,0",
          "[0,-]",
          "[1.]",
          "[.5]",
          "[+1]",
          "[1e]",
          "[1,]",
          "[,1]",
          "[1 2]",
          "[\"1\"]",
          "[null]",
          "[true]",
          "[1",
          "1",
          "[[1]",
          "[-]",
          "[1.5e+]",
          "[NaN]",
          "[Infinity]"
        }) {
      assertThat(numbers(json)).as(json).isNull();
    }
    assertThat(numbers("[" + "[".repeat(40) + "1" + "]".repeat(40) + "]"))
        .as("deeper than 32 is left to the tree reader")
        .isNull();
  }

  @Test
  void aSinkStopsTheReading() {
    JsonScanner in = scanner("[1, 2, 3]");
    assertThat(in.numbers(v -> v < 2)).isEqualTo(-1);
  }

  @Test
  void skipsAnyWellFormedValue() {
    for (String json :
        new String[] {
          "\"a \\\"quoted\\\" \\u00e9 \\n string\"",
          "{\"a\": [1, {\"b\": null}], \"c\": true, \"d\": false, \"e\": -1.5e3}",
          "[]",
          "{}",
          "12"
        }) {
      JsonScanner in = scanner(json + " ,");
      assertThat(in.skipValue()).as(json).isTrue();
      assertThat(in.expect(',')).as(json).isTrue();
    }
    for (String json :
        new String[] {"\"\\x\"", "\"open", "{\"a\" 1}", "{\"a\": 1,}", "[1,,2]", "nul", "{1: 2}"}) {
      assertThat(scanner(json).skipValue()).as(json).isFalse();
    }
  }

  @Test
  void readsPlainStringsAndWholeNumbers() {
    JsonScanner in = scanner("{\"shape\": [256, 1, 28, 28], \"id\": \"r-1\"}");
    assertThat(in.expect('{')).isTrue();
    assertThat(in.plainString()).isEqualTo("shape");
    assertThat(in.expect(':')).isTrue();
    assertThat(in.wholeNumbers(8)).containsExactly(256, 1, 28, 28);
    assertThat(in.expect(',')).isTrue();
    assertThat(in.plainString()).isEqualTo("id");
    assertThat(in.expect(':')).isTrue();
    assertThat(in.plainString()).isEqualTo("r-1");
    assertThat(in.expect('}')).isTrue();
    assertThat(in.atEnd()).isTrue();
    assertThat(scanner("\"a\\\"b\"").plainString()).as("escapes are left to Jackson").isNull();
    // Bytes beyond ASCII too: Jackson decodes UTF-8 and refuses it malformed.
    assertThat(scanner("\"é\"").plainString()).isNull();
    assertThat(new JsonScanner(new byte[] {'"', (byte) 0xFF, '"'}).plainString()).isNull();
    assertThat(new JsonScanner(new byte[] {'"', (byte) 0xFF, '"'}).skipValue()).isFalse();
    assertThat(scanner("[1.0]").wholeNumbers(8)).isNull();
    assertThat(scanner("[1e2]").wholeNumbers(8)).isNull();
    assertThat(scanner("[1, 2, 3]").wholeNumbers(2)).isNull();
    assertThat(scanner("[-3, 0]").wholeNumbers(2)).containsExactly(-3, 0);
  }
}
