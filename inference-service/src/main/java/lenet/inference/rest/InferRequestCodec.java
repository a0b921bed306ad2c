package lenet.inference.rest;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Json;
import lenet.contract.wire.JsonScanner;
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
    Request plain = plain(body, maxBatch);
    return plain != null ? plain : tree(body, maxBatch);
  }

  /** The hot path alone: the request, or null when it is not one it accepts (see {@link Plain}). */
  static Request plain(byte[] body, int maxBatch) {
    return Plain.read(body, maxBatch);
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

  /** {@link #input} of each UINT8 value, for the fast path. */
  private static final float[] PIXEL_INPUT = new float[256];

  static {
    for (int v = 0; v < PIXEL_INPUT.length; v++) {
      PIXEL_INPUT[v] = input(true, v);
    }
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
   * The hot path: a valid request read byte by byte ({@link JsonScanner}), its numbers written
   * straight into the network's rows (a 256-image UINT8 batch, 462 KB of JSON and 200,704 numbers,
   * took 6.8 ms through Jackson's streaming parser and takes 2.7 ms here). It only ever answers a
   * request it fully accepts; anything it does not (a refusal of any kind, a repeated field, an
   * escape or a non-ASCII character in the id or a field name) returns null, and the tree reader
   * above decides with its exact reason and message.
   */
  private static final class Plain {
    private final JsonScanner in;
    private final int maxBatch;
    private String id;
    private String datatype;
    private long[] shape;
    private Values data;

    private Plain(JsonScanner in, int maxBatch) {
      this.in = in;
      this.maxBatch = maxBatch;
    }

    static Request read(byte[] body, int maxBatch) {
      return body == null ? null : new Plain(new JsonScanner(body), maxBatch).request();
    }

    private Request request() {
      if (!in.expect('{') || in.peek('}')) {
        return null;
      }
      boolean inputs = false;
      boolean outputs = false;
      boolean idSeen = false;
      do {
        String field = in.plainString();
        if (field == null || !in.expect(':')) {
          return null;
        }
        switch (field) {
          case "id" -> {
            if (idSeen) {
              return null;
            }
            idSeen = true;
            if (in.peek('"') ? (id = in.plainString()) == null : !in.skipValue()) {
              return null;
            }
          }
          case "inputs" -> {
            if (inputs || !in.expect('[') || !in.expect('{') || !tensor() || !in.expect(']')) {
              return null;
            }
            inputs = true;
          }
          case "outputs" -> {
            if (outputs || !outputs()) {
              return null;
            }
            outputs = true;
          }
          default -> {
            if (!in.skipValue()) {
              return null;
            }
          }
        }
      } while (in.expect(','));
      if (!in.expect('}') || !in.atEnd() || !inputs) {
        return null;
      }
      return rows();
    }

    /** The one tensor's fields, its opening brace read. */
    private boolean tensor() {
      if (in.peek('}')) {
        return false;
      }
      do {
        String field = in.plainString();
        if (field == null || !in.expect(':')) {
          return false;
        }
        switch (field) {
          case "datatype" -> {
            if (datatype != null || (datatype = in.plainString()) == null) {
              return false;
            }
          }
          case "shape" -> {
            if (shape != null || (shape = in.wholeNumbers(8)) == null) {
              return false;
            }
          }
          case "data" -> {
            if (data != null) {
              return false;
            }
            data = new Values(maxBatch * ImageEvent.PIXELS);
            if (in.numbers(data) < 0) {
              return false;
            }
          }
          default -> {
            if (!in.skipValue()) {
              return false;
            }
          }
        }
      } while (in.expect(','));
      return in.expect('}');
    }

    /** {@code "outputs"}: null, or objects each naming {@value #OUTPUT}. */
    private boolean outputs() {
      if (in.literal("null")) {
        return true;
      }
      if (!in.expect('[')) {
        return false;
      }
      if (in.expect(']')) {
        return true;
      }
      do {
        if (!in.expect('{') || in.peek('}')) {
          return false;
        }
        String name = null;
        do {
          String field = in.plainString();
          if (field == null || !in.expect(':')) {
            return false;
          }
          if (field.equals("name")) {
            if (name != null || !in.peek('"') || (name = in.plainString()) == null) {
              return false; // repeated (Jackson keeps the last), or not a plain string
            }
          } else if (!in.skipValue()) {
            return false;
          }
        } while (in.expect(','));
        if (!in.expect('}') || !OUTPUT.equals(name)) {
          return false;
        }
      } while (in.expect(','));
      return in.expect(']');
    }

    private Request rows() {
      if (datatype == null || shape == null || data == null) {
        return null;
      }
      boolean uint8 = datatype.equals("UINT8");
      List<Long> dims = java.util.Arrays.stream(shape).boxed().toList();
      if ((!uint8 && !datatype.equals("FP32")) || dims.isEmpty() || !shapeFits(uint8, dims)) {
        return null;
      }
      long n = dims.get(0);
      if (n < 1
          || n > maxBatch
          || data.count != n * ImageEvent.PIXELS
          || !(uint8 ? data.pixelValues : data.unitValues)) {
        return null;
      }
      float[][] rows = data.rows.toArray(new float[0][]);
      if (uint8) {
        for (float[] row : rows) {
          for (int k = 0; k < row.length; k++) {
            float v = row[k]; // a whole number in 0..255, checked above (-0.0 stays -0.0)
            row[k] = v == 0 ? v : PIXEL_INPUT[(int) v];
          }
        }
      }
      return new Request(id != null ? id : UUID.randomUUID().toString(), rows);
    }
  }

  /**
   * The numbers of {@code data}, 784 to a row, each kept as the float it is (exact for UINT8's
   * whole numbers, the network's input for FP32) while noting which datatype's range they all fit.
   */
  private static final class Values implements JsonScanner.NumberSink {
    private final List<float[]> rows = new ArrayList<>();
    private final int limit;
    private float[] row;
    private int inRow = ImageEvent.PIXELS;
    private int count;
    private boolean pixelValues = true;
    private boolean unitValues = true;

    Values(int limit) {
      this.limit = limit;
    }

    @Override
    public boolean accept(double value) {
      pixelValues &= valueFits(true, value);
      unitValues &= valueFits(false, value);
      return add((float) value);
    }

    /** A whole number from 0 up, as UINT8 pixels come: its range checked without a double. */
    @Override
    public boolean acceptWhole(int value) {
      pixelValues &= value <= 255;
      unitValues &= value <= 1;
      return add(value);
    }

    private boolean add(float value) {
      if (count == limit || !(pixelValues || unitValues)) {
        return false; // more than the largest batch, or out of both ranges: the tree reader says so
      }
      if (inRow == ImageEvent.PIXELS) {
        row = new float[ImageEvent.PIXELS];
        rows.add(row);
        inRow = 0;
      }
      row[inRow++] = value;
      count++;
      return true;
    }
  }

  private static WireFormatException bad(Reason reason, String message) {
    return new WireFormatException(reason, message);
  }
}
