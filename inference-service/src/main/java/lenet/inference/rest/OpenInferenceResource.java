package lenet.inference.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.opentelemetry.api.trace.Span;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.Prediction;
import lenet.inference.config.InferenceConfig;
import lenet.inference.model.ModelManager;
import lenet.inference.model.UnknownVersionException;
import lenet.inference.scoring.Scorer;
import lenet.model.LeNet5;

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

  static final String OUTPUT = InferRequestCodec.OUTPUT;
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
  private final HttpAdmission admission;

  OpenInferenceResource(
      ModelManager models, Scorer scorer, InferenceConfig config, HttpAdmission admission) {
    this.models = models;
    this.scorer = scorer;
    this.config = config;
    this.admission = admission;
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
  public CompletionStage<InferResponse> infer(@PathParam("name") String name, byte[] body) {
    checkName(name);
    return run(body, OptionalLong.empty());
  }

  @POST
  @Path("/models/{name}/versions/{version}/infer")
  @Consumes(MediaType.APPLICATION_JSON)
  public CompletionStage<InferResponse> inferVersion(
      @PathParam("name") String name, @PathParam("version") String version, byte[] body) {
    checkName(name);
    return run(body, OptionalLong.of(parseVersion(version)));
  }

  /**
   * Non-blocking, so the body arrives whole from the event loop (a blocking endpoint reads a body
   * over 10 KB through a blocking stream, one thread hand-off per network chunk: ~80 each way for a
   * 256-image request); the reading and the forward pass then run on a worker thread.
   */
  private CompletionStage<InferResponse> run(byte[] body, OptionalLong version) {
    Span request = Span.current(); // the request's server span (invalid when tracing is off)
    return admission.admit(
        HttpAdmission.Kind.BATCH,
        () ->
            CompletableFuture.supplyAsync(
                () -> traced(request, infer(body, version)),
                Infrastructure.getDefaultWorkerPool()));
  }

  /** The model version and batch size of {@code response}, as attributes of its request's span. */
  private static InferResponse traced(Span request, InferResponse response) {
    request.setAttribute("lenet.model.version", Long.parseLong(response.modelVersion()));
    request.setAttribute("lenet.batch.size", response.outputs().get(0).shape().get(0).longValue());
    return response;
  }

  private InferResponse infer(byte[] body, OptionalLong version) {
    InferRequestCodec.Request request = InferRequestCodec.decode(body, config.maxBatch());
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
