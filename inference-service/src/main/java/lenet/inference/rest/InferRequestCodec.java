package lenet.inference.rest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
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
    Request streamed = streamed(body, maxBatch);
    return streamed != null ? streamed : tree(body, maxBatch);
  }

  /**
   * The hot path alone: the request, or null when it is not one it accepts (see {@link Streamed}).
   */
  static Request streamed(byte[] body, int maxBatch) {
    return Streamed.read(body, maxBatch);
  }

  /** The tree reader alone: the request, or the refusal that names its problem. */
  static Request tree(byte[] body, int maxBatch) {
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
    if (!shapeFits(uint8, shape)) {
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
    if (!valueFits(uint8, d)) {
      throw bad(
          Reason.VALUE_OUT_OF_RANGE,
          "data["
              + i
              + "] is "
              + v
              + (uint8 ? "; UINT8 values are whole numbers 0..255" : "; FP32 pixels are in [0,1]"));
    }
    return input(uint8, d);
  }

  /** {@code UINT8 [N,28,28]} or {@code [N,1,28,28]}; {@code FP32 [N,1,28,28]}. */
  private static boolean shapeFits(boolean uint8, List<Long> shape) {
    return shape.equals(List.of(shape.get(0), 1L, 28L, 28L))
        || (uint8 && shape.equals(List.of(shape.get(0), 28L, 28L)));
  }

  /** UINT8: a whole number 0..255; FP32: a pixel in [0,1]. */
  private static boolean valueFits(boolean uint8, double d) {
    return uint8 ? ImageEvent.isPixelValue(d) : d >= 0 && d <= 1;
  }

  /** The network's input for a value that fits: the JSON number as a double, then a float. */
  private static float input(boolean uint8, double d) {
    return (float) (uint8 ? d / 255.0 : d);
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

  /**
   * The hot path: a valid request read token by token, its numbers written straight into the
   * network's rows (a 256-image batch is 200,704 numbers; as a JSON tree that was 200,704 nodes).
   * It only ever answers a request it fully accepts; anything it does not (a refusal of any kind,
   * an unusual shape of the document) returns null, and the tree reader above decides with its
   * exact reason and message.
   */
  private static final class Streamed {
    private final JsonParser p;
    private final int maxBatch;
    private String id;
    private int tensors;
    private String datatype;
    private List<Long> shape;
    private double[] data;
    private int count;

    private Streamed(JsonParser p, int maxBatch) {
      this.p = p;
      this.maxBatch = maxBatch;
    }

    static Request read(byte[] body, int maxBatch) {
      try (JsonParser p = Json.MAPPER.getFactory().createParser(body)) {
        // Jackson's own fast decimal parser (FastDoubleParser): the same doubles, sooner.
        p.enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER.mappedFeature());
        return new Streamed(p, maxBatch).request();
      } catch (IOException | RuntimeException e) {
        return null; // the tree reader names the problem
      }
    }

    private Request request() throws IOException {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "id" -> {
            if (t == JsonToken.VALUE_STRING) {
              id = p.getText();
            } else {
              p.skipChildren();
            }
          }
          case "inputs" -> {
            if (t != JsonToken.START_ARRAY) {
              return null;
            }
            while (p.nextToken() == JsonToken.START_OBJECT) {
              if (++tensors > 1 || !tensor()) {
                return null;
              }
            }
            if (p.currentToken() != JsonToken.END_ARRAY) {
              return null;
            }
          }
          case "outputs" -> {
            if (!outputsOk(t)) {
              return null;
            }
          }
          default -> p.skipChildren();
        }
      }
      if (tensors != 1 || datatype == null || shape == null || data == null) {
        return null;
      }
      boolean uint8 = datatype.equals("UINT8");
      if ((!uint8 && !datatype.equals("FP32")) || !shapeFits(uint8, shape)) {
        return null;
      }
      long n = shape.get(0);
      if (n < 1 || n > maxBatch || count != n * ImageEvent.PIXELS) {
        return null;
      }
      float[][] rows = new float[(int) n][ImageEvent.PIXELS];
      for (int i = 0; i < count; i++) {
        if (!valueFits(uint8, data[i])) {
          return null;
        }
        rows[i / ImageEvent.PIXELS][i % ImageEvent.PIXELS] = input(uint8, data[i]);
      }
      return new Request(id != null ? id : UUID.randomUUID().toString(), rows);
    }

    private boolean tensor() throws IOException {
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "datatype" -> {
            if (t != JsonToken.VALUE_STRING) {
              return false;
            }
            datatype = p.getText();
          }
          case "shape" -> {
            if (t != JsonToken.START_ARRAY) {
              return false;
            }
            List<Long> dims = new ArrayList<>();
            while (p.nextToken() == JsonToken.VALUE_NUMBER_INT) {
              dims.add(p.getLongValue());
            }
            if (p.currentToken() != JsonToken.END_ARRAY || dims.isEmpty()) {
              return false;
            }
            shape = dims;
          }
          case "data" -> {
            if (t != JsonToken.START_ARRAY) {
              return false;
            }
            data = new double[ImageEvent.PIXELS * 16];
            count = 0;
            if (!values(0)) {
              return false;
            }
          }
          default -> p.skipChildren();
        }
      }
      return true;
    }

    /**
     * Row-major numbers of a flat or nested array; false past the largest batch or on a non-number.
     */
    private boolean values(int depth) throws IOException {
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (t == JsonToken.START_ARRAY) {
          if (depth > 4 || !values(depth + 1)) {
            return false;
          }
        } else if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
          if (count == data.length) {
            if (count >= maxBatch * ImageEvent.PIXELS) {
              return false;
            }
            data = java.util.Arrays.copyOf(data, Math.min(count * 2, maxBatch * ImageEvent.PIXELS));
          }
          data[count++] = p.getDoubleValue();
        } else {
          return false;
        }
      }
      return true;
    }

    private boolean outputsOk(JsonToken t) throws IOException {
      if (t == JsonToken.VALUE_NULL) {
        return true;
      }
      if (t != JsonToken.START_ARRAY) {
        return false;
      }
      while (p.nextToken() == JsonToken.START_OBJECT) {
        String name = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken v = p.nextToken();
          if (field.equals("name") && v == JsonToken.VALUE_STRING) {
            name = p.getText();
          } else {
            p.skipChildren();
          }
        }
        if (!OUTPUT.equals(name)) {
          return false;
        }
      }
      return p.currentToken() == JsonToken.END_ARRAY;
    }
  }

  private static WireFormatException bad(Reason reason, String message) {
    return new WireFormatException(reason, message);
  }
}
