package lenet.inference.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import lenet.contract.model.LeNet5;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Json;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;
import lenet.inference.config.InferenceConfig;
import lenet.inference.model.ModelManager;
import lenet.inference.model.UnknownVersionException;
import lenet.inference.scoring.Scorer;

/**
 * The Open Inference Protocol v2 (KServe) REST API for the one model this service serves, {@code
 * lenet5}. Input: one tensor, {@code FP32 [N,1,28,28]} in [0,1] or {@code UINT8 [N,28,28]} in
 * 0..255 (white digit on black, as MNIST); output: {@code probabilities}, {@code FP32 [N,10]}.
 * Versions are the checkpoint versions; only the serving one is loaded, so a request for another
 * version gets 404.
 */
@Path("/v2")
@Produces(MediaType.APPLICATION_JSON)
public class OpenInferenceResource {

  static final String OUTPUT = "probabilities";
  static final String INPUT = "input";
  static final String PLATFORM = "pytorch_djl";

  /** Tensor metadata. */
  public record TensorMetadata(String name, String datatype, List<Long> shape) {}

  /** Model metadata. */
  public record ModelMetadata(
      String name,
      List<String> versions,
      String platform,
      List<TensorMetadata> inputs,
      List<TensorMetadata> outputs) {}

  /** One output tensor. */
  public record OutputTensor(String name, String datatype, List<Long> shape, float[] data) {}

  /** The inference response. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record InferResponse(
      @JsonProperty("model_name") String modelName,
      @JsonProperty("model_version") String modelVersion,
      String id,
      List<OutputTensor> outputs) {}

  private final ModelManager models;
  private final Scorer scorer;
  private final InferenceConfig config;

  OpenInferenceResource(ModelManager models, Scorer scorer, InferenceConfig config) {
    this.models = models;
    this.scorer = scorer;
    this.config = config;
  }

  @GET
  public Map<String, Object> server() {
    return Map.of("name", "lenet-inference-service", "version", "1.0.0", "extensions", List.of());
  }

  @GET
  @Path("/health/live")
  public Map<String, Boolean> live() {
    return Map.of("live", true);
  }

  /** 200 when a model serves; 400 otherwise, as the protocol answers false with a 4xx status. */
  @GET
  @Path("/health/ready")
  public Response ready() {
    boolean ready = models.serving().isPresent();
    return Response.status(ready ? 200 : 400).entity(Map.of("ready", ready)).build();
  }

  @GET
  @Path("/models/{name}")
  public ModelMetadata metadata(@PathParam("name") String name) {
    checkName(name);
    List<String> versions =
        models.serving().map(h -> List.of(String.valueOf(h.modelVersion()))).orElse(List.of());
    return new ModelMetadata(
        LeNet5.MODEL_NAME,
        versions,
        PLATFORM,
        List.of(new TensorMetadata(INPUT, "FP32", List.of(-1L, 1L, 28L, 28L))),
        List.of(new TensorMetadata(OUTPUT, "FP32", List.of(-1L, (long) Prediction.CLASSES))));
  }

  @GET
  @Path("/models/{name}/versions/{version}")
  public ModelMetadata versionMetadata(
      @PathParam("name") String name, @PathParam("version") String version) {
    checkServing(name, version);
    return metadata(name);
  }

  @GET
  @Path("/models/{name}/ready")
  public Response modelReady(@PathParam("name") String name) {
    checkName(name);
    boolean ready = models.serving().isPresent();
    return Response.status(ready ? 200 : 400).entity(Map.of("name", name, "ready", ready)).build();
  }

  @GET
  @Path("/models/{name}/versions/{version}/ready")
  public Response versionReady(
      @PathParam("name") String name, @PathParam("version") String version) {
    checkName(name);
    boolean ready =
        models.serving().map(h -> String.valueOf(h.modelVersion()).equals(version)).orElse(false);
    return Response.status(ready ? 200 : 400).entity(Map.of("name", name, "ready", ready)).build();
  }

  @POST
  @Path("/models/{name}/infer")
  @Consumes(MediaType.APPLICATION_JSON)
  public InferResponse infer(@PathParam("name") String name, byte[] body) {
    checkName(name);
    return run(body, OptionalLong.empty());
  }

  @POST
  @Path("/models/{name}/versions/{version}/infer")
  @Consumes(MediaType.APPLICATION_JSON)
  public InferResponse inferVersion(
      @PathParam("name") String name, @PathParam("version") String version, byte[] body) {
    checkName(name);
    return run(body, OptionalLong.of(parseVersion(version)));
  }

  private InferResponse run(byte[] body, OptionalLong version) {
    Request request = parse(body);
    Scorer.Scored scored = scorer.score(request.rows(), Scorer.Source.OIP, version);
    float[] flat = new float[request.rows().length * Prediction.CLASSES];
    for (int i = 0; i < request.rows().length; i++) {
      System.arraycopy(
          scored.probabilities()[i], 0, flat, i * Prediction.CLASSES, Prediction.CLASSES);
    }
    return new InferResponse(
        LeNet5.MODEL_NAME,
        String.valueOf(scored.modelVersion()),
        request.id(),
        List.of(
            new OutputTensor(
                OUTPUT,
                "FP32",
                List.of((long) request.rows().length, (long) Prediction.CLASSES),
                flat)));
  }

  private record Request(String id, float[][] rows) {}

  private Request parse(byte[] body) {
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
    JsonNode outputs = root.get("outputs");
    if (outputs != null && !outputs.isNull()) {
      if (!outputs.isArray()) {
        throw bad(
            Reason.WRONG_TYPE, "'outputs' must be an array of {\"name\": \"" + OUTPUT + "\"}");
      }
      for (JsonNode o : outputs) {
        if (!OUTPUT.equals(o.path("name").asText(null))) {
          throw bad(
              Reason.INVALID_VALUE,
              "unknown output " + o.path("name") + "; the only output is '" + OUTPUT + "'");
        }
      }
    }
    JsonNode tensor = inputs.get(0);
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
    if (n < 1 || n > config.maxBatch()) {
      throw bad(
          Reason.INVALID_VALUE, "batch size " + n + " must be between 1 and " + config.maxBatch());
    }
    JsonNode data = tensor.get("data");
    if (data == null || !data.isArray()) {
      throw bad(
          Reason.MISSING_FIELD,
          "input tensor needs 'data', an array of " + n * ImageEvent.PIXELS + " numbers");
    }
    List<JsonNode> values = new ArrayList<>((int) n * ImageEvent.PIXELS);
    flatten(data, values, (int) n * ImageEvent.PIXELS);
    if (values.size() != n * ImageEvent.PIXELS) {
      throw bad(
          Reason.WRONG_PIXEL_COUNT,
          "shape "
              + shape
              + " needs "
              + n * ImageEvent.PIXELS
              + " values, 'data' holds "
              + values.size());
    }
    float[][] rows = new float[(int) n][ImageEvent.PIXELS];
    for (int i = 0; i < values.size(); i++) {
      JsonNode v = values.get(i);
      if (!v.isNumber()) {
        throw bad(Reason.WRONG_TYPE, "data[" + i + "] is " + v + ", not a number");
      }
      double d = v.doubleValue();
      float x;
      if (uint8) {
        if (!(d >= 0 && d <= 255) || d != Math.rint(d)) {
          throw bad(
              Reason.VALUE_OUT_OF_RANGE,
              "data[" + i + "] is " + v + "; UINT8 values are whole numbers 0..255");
        }
        x = (float) (d / 255.0);
      } else {
        if (!(d >= 0 && d <= 1)) {
          throw bad(
              Reason.VALUE_OUT_OF_RANGE, "data[" + i + "] is " + v + "; FP32 pixels are in [0,1]");
        }
        x = (float) d;
      }
      rows[i / ImageEvent.PIXELS][i % ImageEvent.PIXELS] = x;
    }
    return new Request(id, rows);
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
   * Row-major values of a flat or nested array, stopping early once there are more than {@code
   * limit}.
   */
  private static void flatten(JsonNode node, List<JsonNode> out, int limit) {
    for (JsonNode v : node) {
      if (out.size() > limit) {
        return;
      }
      if (v.isArray()) {
        flatten(v, out, limit);
      } else {
        out.add(v);
      }
    }
  }

  private static WireFormatException bad(Reason reason, String message) {
    return new WireFormatException(reason, message);
  }

  private static void checkName(String name) {
    if (!LeNet5.MODEL_NAME.equals(name)) {
      throw new UnknownVersionException(
          "model '" + name + "' is not served here; the model is '" + LeNet5.MODEL_NAME + "'");
    }
  }

  private void checkServing(String name, String version) {
    checkName(name);
    long v = parseVersion(version);
    Checkpoint.Header h =
        models
            .serving()
            .orElseThrow(() -> new UnknownVersionException("no model version is loaded yet"));
    if (h.modelVersion() != v) {
      throw new UnknownVersionException(
          "model version " + v + " is not loaded; v" + h.modelVersion() + " serves");
    }
  }

  private static long parseVersion(String version) {
    try {
      return Long.parseLong(version);
    } catch (NumberFormatException e) {
      throw new UnknownVersionException(
          "model version '" + version + "' is not a checkpoint version number");
    }
  }
}
