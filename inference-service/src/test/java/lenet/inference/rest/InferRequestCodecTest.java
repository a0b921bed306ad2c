package lenet.inference.rest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.stream.Stream;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The Open Inference Protocol request reader alone: what it accepts, and each refusal's reason. */
class InferRequestCodecTest {

  private static String values(int n, String v) {
    return String.join(",", Collections.nCopies(n, v));
  }

  private static String request(String datatype, String shape, String data) {
    return "{\"id\":\"r1\",\"inputs\":[{\"name\":\"input\",\"datatype\":\""
        + datatype
        + "\",\"shape\":"
        + shape
        + ",\"data\":"
        + data
        + "}]}";
  }

  private static InferRequestCodec.Request decode(String json) {
    return InferRequestCodec.decode(json.getBytes(StandardCharsets.UTF_8), 256);
  }

  @Test
  void readsFp32AndUint8FlatOrNested() {
    var fp32 = decode(request("FP32", "[2,1,28,28]", "[" + values(1568, "0.5") + "]"));
    assertThat(fp32.id()).isEqualTo("r1");
    assertThat(fp32.rows()).hasDimensions(2, 784);
    assertThat(fp32.rows()[1][783]).isEqualTo(0.5f);

    String row = "[" + values(28, "255") + "]";
    String image = "[" + String.join(",", Collections.nCopies(28, row)) + "]";
    var uint8 = decode(request("UINT8", "[2,28,28]", "[" + image + "," + image + "]"));
    assertThat(uint8.rows()).hasDimensions(2, 784);
    assertThat(uint8.rows()[0][0]).isEqualTo(1f);
    assertThat(
            decode(request("UINT8", "[1,1,28,28]", "[" + values(784, "12.0") + "]")).rows()[0][5])
        .isEqualTo(12f / 255f);
  }

  @Test
  void thePlainReaderTakesValidRequestsAndReadsThemAsTheTreeDoes() {
    String row = "[" + values(28, "0.25") + "]";
    String image = "[[" + String.join(",", Collections.nCopies(28, row)) + "]]";
    java.util.List<String> valid =
        java.util.List.of(
            request("FP32", "[2,1,28,28]", "[" + values(1568, "0.1") + "]"),
            request("FP32", "[1,1,28,28]", "[" + image + "]"),
            request("UINT8", "[1,28,28]", "[" + values(784, "200") + "]"),
            request("UINT8", "[1,1,28,28]", "[" + values(784, "7.0") + "]"),
            // runs of zeros, -0.0 (a pixel value, kept as -0.0 like the tree reads it), 255
            request(
                "UINT8",
                "[1,28,28]",
                "[" + String.join(",", Collections.nCopies(196, "0,-0.0,255,13")) + "]"),
            // data before shape and datatype, extra fields, outputs named, a numeric id
            "{\"id\":5,\"parameters\":{\"a\":[1,{\"b\":2}]},\"inputs\":[{\"data\":["
                + values(784, "0.3333333333333333")
                + "],\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\","
                + "\"parameters\":{}}],\"outputs\":[{\"name\":\"probabilities\"}]}");
    for (String json : valid) {
      byte[] body = json.getBytes(StandardCharsets.UTF_8);
      InferRequestCodec.Request plain = InferRequestCodec.plain(body, 256);
      assertThat(plain).as(json.substring(0, 60)).isNotNull();
      assertThat(bits(plain.rows())).isDeepEqualTo(bits(InferRequestCodec.tree(body, 256).rows()));
    }
  }

  /** The floats' exact bits (so -0.0 and 0.0 differ). */
  private static int[][] bits(float[][] rows) {
    int[][] out = new int[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      out[i] = new int[rows[i].length];
      for (int k = 0; k < rows[i].length; k++) {
        out[i][k] = Float.floatToRawIntBits(rows[i][k]);
      }
    }
    return out;
  }

  @Test
  void anAbsentIdIsGenerated() {
    String json =
        request("FP32", "[1,1,28,28]", "[" + values(784, "0") + "]").replace("\"id\":\"r1\",", "");
    assertThat(decode(json).id()).hasSize(36);
  }

  static Stream<Arguments> refusals() {
    String ok = "[" + values(784, "0") + "]";
    return Stream.of(
        Arguments.of("empty", "", Reason.EMPTY),
        Arguments.of("not json", "{", Reason.MALFORMED_JSON),
        Arguments.of("array", "[]", Reason.WRONG_TYPE),
        Arguments.of("no inputs", "{\"id\":\"x\"}", Reason.MISSING_FIELD),
        Arguments.of("two inputs", "{\"inputs\":[{},{}]}", Reason.MISSING_FIELD),
        Arguments.of("datatype", request("INT64", "[1,1,28,28]", ok), Reason.INVALID_VALUE),
        Arguments.of("shape", request("FP32", "[1,28,28]", ok), Reason.INVALID_VALUE),
        Arguments.of("no shape", request("FP32", "[]", ok), Reason.MISSING_FIELD),
        Arguments.of("batch 0", request("FP32", "[0,1,28,28]", "[]"), Reason.INVALID_VALUE),
        Arguments.of("batch 257", request("FP32", "[257,1,28,28]", ok), Reason.INVALID_VALUE),
        Arguments.of("no data", request("FP32", "[1,1,28,28]", "null"), Reason.MISSING_FIELD),
        Arguments.of("count", request("FP32", "[1,1,28,28]", "[1]"), Reason.WRONG_PIXEL_COUNT),
        Arguments.of(
            "string",
            request("FP32", "[1,1,28,28]", ok.replace("[0,", "[\"0\",")),
            Reason.WRONG_TYPE),
        Arguments.of(
            "fp32 above 1",
            request("FP32", "[1,1,28,28]", ok.replace("[0,", "[2,")),
            Reason.VALUE_OUT_OF_RANGE),
        Arguments.of(
            "uint8 256",
            request("UINT8", "[1,28,28]", ok.replace("[0,", "[256,")),
            Reason.VALUE_OUT_OF_RANGE),
        Arguments.of(
            "uint8 0.5",
            request("UINT8", "[1,28,28]", ok.replace("[0,", "[0.5,")),
            Reason.VALUE_OUT_OF_RANGE),
        Arguments.of(
            "output named twice, the last one wrong",
            request("FP32", "[1,1,28,28]", ok)
                .replace("]}]}", "]}],\"outputs\":[{\"name\":\"probabilities\",\"name\":\"x\"}]}"),
            Reason.INVALID_VALUE),
        Arguments.of(
            "unknown output",
            request("FP32", "[1,1,28,28]", ok)
                .replace("]}]}", "]}],\"outputs\":[{\"name\":\"logits\"}]}"),
            Reason.INVALID_VALUE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusals")
  void refusesWithTheReason(String name, String json, Reason reason) {
    WireFormatException e = assertThrows(WireFormatException.class, () -> decode(json));
    assertThat(e.reason()).isEqualTo(reason);
    assertThat(InferRequestCodec.plain(json.getBytes(StandardCharsets.UTF_8), 256))
        .as("the plain reader leaves every refusal to the tree reader")
        .isNull();
  }
}
