package lenet.inference.rest;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Json;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * Reads an Open Inference Protocol v2 inference request for LeNet-5: exactly one input tensor,
 * {@code FP32 [N,1,28,28]} in [0,1] or {@code UINT8 [N,28,28]} (or {@code [N,1,28,28]}) of whole
 * numbers 0..255, its {@code data} flat or nested row-major, and optionally {@code outputs} naming
 * {@value #OUTPUT}. Every refusal is a {@link WireFormatException} whose reason and message say
 * what to fix (400 with {@code {"error", "reason"}}).
 */
final class InferRequestCodec {

  static final String OUTPUT = "probabilities";

  /** The request's id (generated when absent) and one network input row per image. */
  record Request(String id, float[][] rows) {}

  private InferRequestCodec() {}

  static Request decode(byte[] body, int maxBatch) {
    if (body == null || body.length == 0) {
      throw bad(Reason.EMPTY, "the inference request is empty");
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (IOException e) {
      throw new WireFormatException(
          Reason.MALFORMED_JSON, "the inference request is not valid JSON", e);
    }
    if (root == null || !root.isObject()) {
      throw bad(Reason.WRONG_TYPE, "the inference request must be a JSON object");
    }
    JsonNode idNode = root.get("id");
    String id =
        idNode != null && idNode.isTextual() ? idNode.textValue() : UUID.randomUUID().toString();
    JsonNode inputs = root.get("inputs");
    if (inputs == null || !inputs.isArray() || inputs.size() != 1) {
      throw bad(Reason.MISSING_FIELD, "'inputs' must be an array with exactly one tensor");
    }
    checkOutputs(root.get("outputs"));
    return new Request(id, rows(inputs.get(0), maxBatch));
  }

  private static void checkOutputs(JsonNode outputs) {
    if (outputs == null || outputs.isNull()) {
      return;
    }
    if (!outputs.isArray()) {
      throw bad(Reason.WRONG_TYPE, "'outputs' must be an array of {\"name\": \"" + OUTPUT + "\"}");
    }
    for (JsonNode o : outputs) {
      if (!OUTPUT.equals(o.path("name").asText(null))) {
        throw bad(
            Reason.INVALID_VALUE,
            "unknown output " + o.path("name") + "; the only output is '" + OUTPUT + "'");
      }
    }
  }

  private static float[][] rows(JsonNode tensor, int maxBatch) {
    String datatype = tensor.path("datatype").asText("");
    List<Long> shape = shape(tensor.get("shape"));
    boolean uint8 =
        switch (datatype) {
          case "FP32" -> false;
          case "UINT8" -> true;
          default ->
              throw bad(
                  Reason.INVALID_VALUE,
                  "datatype '"
                      + datatype
                      + "' is not supported; send FP32 [N,1,28,28] in [0,1] or UINT8 [N,28,28]");
        };
    boolean shapeOk =
        uint8
            ? shape.equals(List.of(shape.get(0), 28L, 28L))
                || shape.equals(List.of(shape.get(0), 1L, 28L, 28L))
            : shape.equals(List.of(shape.get(0), 1L, 28L, 28L));
    if (!shapeOk) {
      throw bad(
          Reason.INVALID_VALUE,
          "shape "
              + shape
              + " does not fit "
              + datatype
              + "; expected "
              + (uint8 ? "[N,28,28]" : "[N,1,28,28]"));
    }
    long n = shape.get(0);
    if (n < 1 || n > maxBatch) {
      throw bad(Reason.INVALID_VALUE, "batch size " + n + " must be between 1 and " + maxBatch);
    }
    int total = (int) n * ImageEvent.PIXELS;
    JsonNode data = tensor.get("data");
    if (data == null || !data.isArray()) {
      throw bad(
          Reason.MISSING_FIELD, "input tensor needs 'data', an array of " + total + " numbers");
    }
    float[][] rows = new float[(int) n][ImageEvent.PIXELS];
    int count = fill(data, rows, 0, total, uint8);
    if (count != total) {
      throw bad(
          Reason.WRONG_PIXEL_COUNT,
          "shape " + shape + " needs " + total + " values, 'data' holds " + count);
    }
    return rows;
  }

  /**
   * Writes the row-major leaves of {@code node} into {@code rows} from index {@code i}, checking
   * each; returns the index after the last leaf, stopping once past {@code total}.
   */
  private static int fill(JsonNode node, float[][] rows, int i, int total, boolean uint8) {
    for (JsonNode v : node) {
      if (i > total) {
        return i;
      }
      if (v.isArray()) {
        i = fill(v, rows, i, total, uint8);
        continue;
      }
      if (i < total) {
        rows[i / ImageEvent.PIXELS][i % ImageEvent.PIXELS] = value(v, i, uint8);
      }
      i++;
    }
    return i;
  }

  private static float value(JsonNode v, int i, boolean uint8) {
    if (!v.isNumber()) {
      throw bad(Reason.WRONG_TYPE, "data[" + i + "] is " + v + ", not a number");
    }
    double d = v.doubleValue();
    if (uint8) {
      if (!ImageEvent.isPixelValue(d)) {
        throw bad(
            Reason.VALUE_OUT_OF_RANGE,
            "data[" + i + "] is " + v + "; UINT8 values are whole numbers 0..255");
      }
      return (float) (d / 255.0);
    }
    if (!(d >= 0 && d <= 1)) {
      throw bad(
          Reason.VALUE_OUT_OF_RANGE, "data[" + i + "] is " + v + "; FP32 pixels are in [0,1]");
    }
    return (float) d;
  }

  private static List<Long> shape(JsonNode node) {
    if (node == null || !node.isArray() || node.isEmpty()) {
      throw bad(Reason.MISSING_FIELD, "input tensor needs 'shape', e.g. [1,1,28,28]");
    }
    List<Long> shape = new ArrayList<>();
    for (JsonNode d : node) {
      if (!d.isIntegralNumber()) {
        throw bad(Reason.WRONG_TYPE, "shape " + node + " must hold whole numbers");
      }
      shape.add(d.longValue());
    }
    return shape;
  }

  private static WireFormatException bad(Reason reason, String message) {
    return new WireFormatException(reason, message);
  }
}
