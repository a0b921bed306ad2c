package lenet.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.TrainingCommand;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class WireFormatTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String pixelsJson(int count, String value) {
    return IntStream.range(0, count)
        .mapToObj(i -> value)
        .collect(Collectors.joining(",", "[", "]"));
  }

  private static WireFormatException imageError(String json) {
    try {
      ImageEvent.decode(utf8(json), null);
    } catch (WireFormatException e) {
      return e;
    }
    throw new AssertionError("accepted: " + json);
  }

  @Test
  void imageEventRoundTripsPixelsAndPng() {
    int[] pixels = IntStream.range(0, 784).map(i -> i % 256).toArray();
    ImageEvent event = ImageEvent.ofPixels("a1", pixels);
    assertThat(ImageEvent.decode(event.encode(), null)).isEqualTo(event);

    ImageEvent png = ImageEvent.ofEncoded("p", new byte[] {(byte) 0x89, 'P', 'N', 'G'});
    assertThat(ImageEvent.decode(png.encode(), null)).isEqualTo(png);
  }

  @Test
  void imageEventIdFallsBackToKeyThenToAGeneratedOne() {
    String json = "{\"pixels\":" + pixelsJson(784, "0") + "}";
    assertThat(ImageEvent.decode(utf8(json), "key-7").id()).isEqualTo("key-7");
    assertThat(ImageEvent.decode(utf8(json), null).id()).hasSize(36);
  }

  @Test
  void thePlainReaderAgreesWithTheTreeOnFieldOrderNullsRepeatsAndSpacing() {
    String pixels = pixelsJson(784, "3");
    assertThat(ImageEvent.decode(utf8("{\"pixels\":" + pixels + ",\"id\":\"late\"}"), "k").id())
        .isEqualTo("late");
    assertThat(ImageEvent.decode(utf8("{\"id\":null,\"pixels\":" + pixels + "}"), "k").id())
        .isEqualTo("k");
    assertThat(ImageEvent.decode(utf8("{\"id\":\" \",\"pixels\":" + pixels + "}"), "k").id())
        .isEqualTo("k");
    // A repeated field: the tree's rule (the last one counts) decides.
    assertThat(
            ImageEvent.decode(utf8("{\"id\":\"a\",\"pixels\":" + pixels + ",\"id\":\"b\"}"), null)
                .id())
        .isEqualTo("b");
    assertThat(ImageEvent.decode(utf8("{\"id\":\"a\",\"pixels\":" + pixels + "}"), null).pixels())
        .containsOnly(3);
    String spaced =
        " {\n \"id\" : \"é\" ,\t\"pixels\" : "
            + pixelsJson(784, "7").replace(",", " ,\n ").replace("[", "[ ").replace("]", " ]")
            + " } ";
    ImageEvent e = ImageEvent.decode(utf8(spaced), null);
    assertThat(e.id()).isEqualTo("é");
    assertThat(e.pixels()).containsOnly(7);
    // What JSON forbids stays forbidden: a leading zero is malformed, as the tree reader says.
    assertThat(
            imageError("{\"pixels\":" + pixelsJson(783, "0").replace("]", ",07]") + "}").reason())
        .isEqualTo(Reason.MALFORMED_JSON);
    assertThat(ImageEvent.decode(utf8("{\"id\":\"a\\\"b\",\"pixels\":" + pixels + "}"), null).id())
        .as("an escaped id goes through the tree reader")
        .isEqualTo("a\"b");
  }

  @Test
  void wholeNumbersWrittenAsFloatsAreAccepted() {
    String json = "{\"pixels\":" + pixelsJson(784, "255.0") + "}";
    assertThat(ImageEvent.decode(utf8(json), null).pixels()).containsOnly(255);
  }

  static Stream<Arguments> imageGarbage() {
    return Stream.of(
        Arguments.of("empty", "", Reason.EMPTY, "empty"),
        Arguments.of("blank", "   ", Reason.EMPTY, "no JSON value"),
        Arguments.of("truncated", "{\"pixels\": [1, 2", Reason.MALFORMED_JSON, "not valid JSON"),
        Arguments.of("not json", "hello", Reason.MALFORMED_JSON, "not valid JSON"),
        Arguments.of("array not object", "[1,2,3]", Reason.WRONG_TYPE, "must be a JSON object"),
        Arguments.of(
            "id not a string",
            "{\"id\": 5, \"png\": \"iVBO\"}",
            Reason.WRONG_TYPE,
            "'id' must be a string"),
        Arguments.of(
            "pixels not an array",
            "{\"pixels\": \"abc\"}",
            Reason.WRONG_TYPE,
            "'pixels' must be an array"),
        Arguments.of(
            "png not a string",
            "{\"png\": 12}",
            Reason.WRONG_TYPE,
            "'png' must be a base64 string"),
        Arguments.of(
            "unknown field", "{\"pixel\": []}", Reason.UNKNOWN_FIELD, "unknown field 'pixel'"),
        Arguments.of("no image", "{\"id\": \"x\"}", Reason.MISSING_FIELD, "got neither"),
        Arguments.of(
            "bad base64", "{\"png\": \"***\"}", Reason.UNDECODABLE_IMAGE, "not valid base64"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("imageGarbage")
  void garbageGetsAPreciseTypedError(String name, String json, Reason reason, String message) {
    WireFormatException e = imageError(json);
    assertThat(e.reason()).isEqualTo(reason);
    assertThat(e.getMessage()).contains(message);
  }

  @Test
  void wrongPixelCountsNameTheCount() {
    for (int count : new int[] {783, 785, 0}) {
      WireFormatException e = imageError("{\"pixels\":" + pixelsJson(count, "1") + "}");
      assertThat(e.reason()).isEqualTo(Reason.WRONG_PIXEL_COUNT);
      assertThat(e.getMessage()).contains("got " + count);
    }
  }

  @Test
  void valuesOutsideTheByteRangeAreRefusedWithTheirIndex() {
    for (String bad : new String[] {"256", "-1", "12.5", "1e9"}) {
      String json = "{\"pixels\":" + pixelsJson(783, "0").replace("]", "," + bad + "]") + "}";
      WireFormatException e = imageError(json);
      assertThat(e.reason()).as(bad).isEqualTo(Reason.VALUE_OUT_OF_RANGE);
      assertThat(e.getMessage()).contains("pixels[783]");
    }
  }

  @Test
  void nanAndStringsInPixelsAreWrongTypes() {
    for (String bad : new String[] {"NaN", "\"NaN\"", "null", "\"7\""}) {
      String json = "{\"pixels\":" + pixelsJson(783, "0").replace("]", "," + bad + "]") + "}";
      WireFormatException e = imageError(json);
      assertThat(e.reason()).as(bad).isIn(Reason.WRONG_TYPE, Reason.MALFORMED_JSON);
      assertThat(e.getMessage()).as(bad).containsAnyOf("pixels[783]", "not valid JSON");
    }
  }

  @Test
  void aTwentyMegabytePayloadIsRefusedBeforeParsing() {
    byte[] huge = new byte[20 * 1024 * 1024];
    Arrays.fill(huge, (byte) ' ');
    WireFormatException e = assertThrowsWire(() -> ImageEvent.decode(huge, null));
    assertThat(e.reason()).isEqualTo(Reason.TOO_LARGE);
    assertThat(e.getMessage()).contains("20971520 bytes");
  }

  @Test
  void bothImagesAtOnceAreRefused() {
    String json =
        "{\"pixels\":"
            + pixelsJson(784, "0")
            + ",\"png\":\""
            + Base64.getEncoder().encodeToString(new byte[] {1})
            + "\"}";
    assertThat(imageError(json).getMessage()).contains("got both");
  }

  @Test
  void predictionRoundTrips() {
    float[] row = {0.01f, 0.02f, 0.9f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f};
    Prediction p = Prediction.fromProbabilities("id-1", row, 7);
    assertThat(p.digit()).isEqualTo(2);
    assertThat(p.confidence()).isEqualTo(0.9f);
    assertThat(Prediction.decode(p.encode())).isEqualTo(p);
    assertThat(new String(p.encode(), StandardCharsets.UTF_8))
        .contains("\"id\":\"id-1\"", "\"digit\":2", "\"modelVersion\":7", "\"probabilities\":[")
        .as("float32 written as its shortest decimal, not widened to a double's 17 digits")
        .contains("\"confidence\":0.9,", "0.01,0.02,0.9,");
  }

  @Test
  void trainingCommandRoundTripsAndEmptyMeansDefaults() {
    TrainingCommand cmd = new TrainingCommand("r-1", 3, 64, 0.001, "adam", 42L, null);
    assertThat(TrainingCommand.decode(cmd.encode())).isEqualTo(cmd);
    TrainingCommand withFeedback =
        new TrainingCommand("r-2", null, null, null, null, null, new TrainingCommand.Feedback(0.2));
    assertThat(TrainingCommand.decode(withFeedback.encode())).isEqualTo(withFeedback);
    assertThat(new String(withFeedback.encode(), StandardCharsets.UTF_8))
        .contains("\"feedback\":{\"share\":0.2}");
    assertThat(TrainingCommand.decode(utf8("{}"))).isEqualTo(TrainingCommand.defaults());
  }

  static Stream<Arguments> badCommands() {
    return Stream.of(
        Arguments.of("not json", "epochs=3", Reason.MALFORMED_JSON, "not valid JSON"),
        Arguments.of(
            "zero epochs",
            "{\"epochs\": 0}",
            Reason.INVALID_VALUE,
            "'epochs' must be in 1..1000, got 0"),
        Arguments.of(
            "negative epochs",
            "{\"epochs\": -2}",
            Reason.INVALID_VALUE,
            "'epochs' must be in 1..1000, got -2"),
        Arguments.of(
            "batch 0",
            "{\"batchSize\": 0}",
            Reason.INVALID_VALUE,
            "'batchSize' must be in 1..60000, got 0"),
        Arguments.of(
            "batch too big",
            "{\"batchSize\": 60001}",
            Reason.INVALID_VALUE,
            "'batchSize' must be in 1..60000"),
        Arguments.of(
            "negative lr",
            "{\"learningRate\": -0.1}",
            Reason.INVALID_VALUE,
            "'learningRate' must be in [1.0E-9, 10]"),
        Arguments.of(
            "lr that is 0 as a float",
            "{\"learningRate\": 1e-300}",
            Reason.INVALID_VALUE,
            "(the trainer uses it as a 32-bit float), got 1.0E-300"),
        Arguments.of(
            "lr that is subnormal as a float",
            "{\"learningRate\": 1e-40}",
            Reason.INVALID_VALUE,
            "'learningRate' must be in"),
        Arguments.of(
            "lr just under the floor",
            "{\"learningRate\": 9.9e-10}",
            Reason.INVALID_VALUE,
            "'learningRate' must be in"),
        Arguments.of(
            "lr above 10 as a float",
            "{\"learningRate\": 10.000001}",
            Reason.INVALID_VALUE,
            "'learningRate' must be in"),
        Arguments.of(
            "unknown optimizer",
            "{\"optimizer\": \"lion\"}",
            Reason.INVALID_VALUE,
            "'optimizer' must be one of"),
        Arguments.of(
            "feedback share 0",
            "{\"feedback\": {\"share\": 0}}",
            Reason.INVALID_VALUE,
            "'feedback.share' must be above 0 and below 1"),
        Arguments.of(
            "feedback share 1",
            "{\"feedback\": {\"share\": 1.0}}",
            Reason.INVALID_VALUE,
            "'feedback.share' must be above 0 and below 1"),
        Arguments.of(
            "feedback share as string",
            "{\"feedback\": {\"share\": \"0.2\"}}",
            Reason.WRONG_TYPE,
            "'feedback.share' must be a number between 0 and 1"),
        Arguments.of(
            "feedback without share",
            "{\"feedback\": {}}",
            Reason.MISSING_FIELD,
            "'feedback' needs 'share'"),
        Arguments.of(
            "feedback as number",
            "{\"feedback\": 0.2}",
            Reason.WRONG_TYPE,
            "'feedback' must be an object like {\"share\": 0.2}"),
        Arguments.of(
            "feedback with unknown field",
            "{\"feedback\": {\"share\": 0.2, \"size\": 5}}",
            Reason.UNKNOWN_FIELD,
            "'feedback' has unknown field 'size'"),
        Arguments.of(
            "epochs as string",
            "{\"epochs\": \"3\"}",
            Reason.WRONG_TYPE,
            "'epochs' must be an integer"),
        Arguments.of(
            "epochs fractional",
            "{\"epochs\": 2.5}",
            Reason.WRONG_TYPE,
            "'epochs' must be an integer"),
        Arguments.of("typo field", "{\"epoch\": 3}", Reason.UNKNOWN_FIELD, "unknown field 'epoch'"),
        Arguments.of(
            "bad run id", "{\"runId\": \"a b/c\"}", Reason.INVALID_VALUE, "'runId' must be"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badCommands")
  void badCommandsAreRefusedWithTheirReason(
      String name, String json, Reason reason, String message) {
    WireFormatException e = assertThrowsWire(() -> TrainingCommand.decode(utf8(json)));
    assertThat(e.reason()).isEqualTo(reason);
    assertThat(e.getMessage()).contains(message);
  }

  @Test
  void everyTrainingEventTypeRoundTripsBoundByItsTypeField() {
    List<TrainingEvent> all =
        List.of(
            TrainingEvent.queued("r", 5, 2, "epochs=5"),
            TrainingEvent.started("r", 5, "cpu()", "epochs=5", new TrainingEvent.Data("d", null)),
            TrainingEvent.resumed(
                "r",
                5,
                "cpu()",
                "epochs=5",
                new TrainingEvent.Data(
                    "d",
                    new TrainingEvent.FeedbackUsed(
                        0.2,
                        0.2,
                        Map.of("digits.labels", Map.of(0, 12L, 1, 3L)),
                        15,
                        12,
                        10,
                        2,
                        0,
                        2,
                        8,
                        2408)),
                3),
            TrainingEvent.epoch(
                "r", 2, 5, new TrainingEvent.EpochMetrics(0.1, 0.97, 0.12, 0.96, 5.5, 9000), 4),
            TrainingEvent.epoch(
                "r",
                2,
                5,
                new TrainingEvent.EpochMetrics(0.1, 0.97, 0.12, 0.96, 5.5, 9000, 0.5, 2),
                4),
            TrainingEvent.completed("r", 5, 0.05, 0.99, null, null, 7, 30.0),
            TrainingEvent.completed("r", 5, 0.05, 0.99, 0.5, 2, 7, 30.0),
            TrainingEvent.failed("r", "boom"),
            TrainingEvent.cancelled("r", 2, "cancelled after 2 of 5 epochs"));
    for (TrainingEvent e : all) {
      TrainingEvent back = TrainingEvent.decode(e.encode());
      assertThat(back).isEqualTo(e).isInstanceOf(e.getClass());
      assertThat(new String(e.encode(), StandardCharsets.UTF_8))
          .contains("\"type\":\"" + e.type().name() + "\"");
    }
    assertThat(all.stream().map(TrainingEvent::type).distinct())
        .containsExactlyInAnyOrder(TrainingEvent.Type.values());
  }

  @Test
  void trainingEventsCarryOnlyTheirTypesFieldsAndReadTheOldShape() {
    String json = new String(TrainingEvent.failed("r", "boom").encode(), StandardCharsets.UTF_8);
    assertThat(json)
        .contains("\"type\":\"FAILED\"", "\"message\":\"boom\"")
        .doesNotContain("loss", "epoch");
    String fresh =
        new String(
            TrainingEvent.started("r", 5, "cpu()", "s", new TrainingEvent.Data("d", null)).encode(),
            StandardCharsets.UTF_8);
    assertThat(fresh).doesNotContain("resumedFrom", "feedback").contains("\"datasetId\":\"d\"");
    // As the single nullable record wrote it before the types: nulls left out, all else the same.
    TrainingEvent old =
        TrainingEvent.decode(
            utf8(
                "{\"runId\":\"r\",\"type\":\"COMPLETED\",\"epoch\":2,\"epochs\":2,"
                    + "\"testLoss\":0.04,\"testAccuracy\":0.987,\"modelVersion\":9,"
                    + "\"seconds\":51.5,\"timestamp\":1700000000000}"));
    assertThat(old)
        .isEqualTo(
            new TrainingEvent.Completed(
                "r", 2, 2, 0.04, 0.987, null, null, 9, 51.5, 1_700_000_000_000L));
    assertThatThrownBy(() -> TrainingEvent.decode(utf8("{\"type\":\"DONE\"}")))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("'type' must be one of");
    assertThatThrownBy(() -> TrainingEvent.decode(utf8("{\"type\":\"EPOCH\",\"epoch\":\"two\"}")))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("training event");
  }

  static WireFormatException assertThrowsWire(Runnable r) {
    try {
      r.run();
    } catch (WireFormatException e) {
      return e;
    }
    throw new AssertionError("no WireFormatException");
  }
}
