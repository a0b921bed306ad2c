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
import lenet.service.api.ApiError;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The Open Inference Protocol v2 (KServe) REST API for the one model this service serves, {@code
 * lenet5}. Input: one tensor, {@code FP32 [N,1,28,28]} in [0,1] or {@code UINT8 [N,28,28]} in
 * 0..255 (white digit on black, as MNIST); output: {@code probabilities}, {@code FP32 [N,10]}.
 * Versions are the checkpoint versions; only the serving one is loaded, so a request for another
 * version gets 404.
 */
@Path("/v2")
@Produces(MediaType.APPLICATION_JSON)
@Tag(
    name = "Open Inference Protocol v2",
    description = "KServe's REST protocol for the one model served here, `lenet5`")
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
  @Operation(summary = "Server metadata")
  @APIResponse(
      responseCode = "200",
      description = "Name, version, extensions",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "server",
                      value =
                          "{\"name\": \"lenet-inference-service\", \"version\": \"1.0.0\", \"extensions\": []}")))
  public Map<String, Object> server() {
    return Map.of("name", "lenet-inference-service", "version", "1.0.0", "extensions", List.of());
  }

  @GET
  @Path("/health/live")
  @Operation(summary = "Server liveness")
  @APIResponse(
      responseCode = "200",
      description = "Live",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "live", value = "{\"live\": true}")))
  public Map<String, Boolean> live() {
    return Map.of("live", true);
  }

  /** 200 when a model serves; 400 otherwise, as the protocol answers false with a 4xx status. */
  @GET
  @Path("/health/ready")
  @Operation(summary = "Server readiness: a model serves")
  @APIResponse(
      responseCode = "200",
      description = "Ready",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "ready", value = "{\"ready\": true}")))
  @APIResponse(
      responseCode = "400",
      description = "Not ready (the protocol answers false with a 4xx status)",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "not ready", value = "{\"ready\": false}")))
  public Response ready() {
    boolean ready = models.serving().isPresent();
    return Response.status(ready ? 200 : 400).entity(Map.of("ready", ready)).build();
  }

  @GET
  @Path("/models/{name}")
  @Operation(
      summary = "Model metadata",
      description =
          "Input `FP32 [-1,1,28,28]`, output `probabilities FP32 [-1,10]`, platform"
              + " `pytorch_djl`, `versions`: the serving version. `UINT8 [N,28,28]` inputs are"
              + " taken too.")
  @APIResponse(
      responseCode = "200",
      description = "The metadata",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "lenet5", value = ApiExamples.OIP_METADATA)))
  @APIResponse(
      responseCode = "404",
      description = "Another model, or a version that does not serve",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  public ModelMetadata metadata(
      @Parameter(description = "The model: lenet5", example = "lenet5") @PathParam("name")
          String name) {
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
  @Operation(summary = "Model metadata of the serving version")
  @APIResponse(
      responseCode = "200",
      description = "The metadata",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "lenet5", value = ApiExamples.OIP_METADATA)))
  @APIResponse(
      responseCode = "404",
      description = "Another model, or a version that does not serve",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  public ModelMetadata versionMetadata(
      @Parameter(description = "The model: lenet5", example = "lenet5") @PathParam("name")
          String name,
      @Parameter(
              description = "A checkpoint version: only the serving one is known",
              example = "12")
          @PathParam("version")
          String version) {
    checkServing(name, version);
    return metadata(name);
  }

  @GET
  @Path("/models/{name}/ready")
  @Operation(summary = "Model readiness: a version serves")
  @APIResponse(
      responseCode = "200",
      description = "Ready",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "ready",
                      value = "{\"name\": \"lenet5\", \"ready\": true}")))
  @APIResponse(responseCode = "400", description = "Not ready: `\"ready\": false`")
  @APIResponse(
      responseCode = "404",
      description = "Another model, or a version that does not serve",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  public Response modelReady(
      @Parameter(description = "The model: lenet5", example = "lenet5") @PathParam("name")
          String name) {
    checkName(name);
    boolean ready = models.serving().isPresent();
    return Response.status(ready ? 200 : 400).entity(Map.of("name", name, "ready", ready)).build();
  }

  @GET
  @Path("/models/{name}/versions/{version}/ready")
  @Operation(summary = "Version readiness: this version serves")
  @APIResponse(
      responseCode = "200",
      description = "It serves",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "ready",
                      value = "{\"name\": \"lenet5\", \"ready\": true}")))
  @APIResponse(responseCode = "400", description = "It does not serve: `\"ready\": false`")
  @APIResponse(
      responseCode = "404",
      description = "Another model, or a version that does not serve",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  public Response versionReady(
      @Parameter(description = "The model: lenet5", example = "lenet5") @PathParam("name")
          String name,
      @Parameter(
              description = "A checkpoint version: only the serving one is known",
              example = "12")
          @PathParam("version")
          String version) {
    checkName(name);
    boolean ready =
        models.serving().map(h -> String.valueOf(h.modelVersion()).equals(version)).orElse(false);
    return Response.status(ready ? 200 : 400).entity(Map.of("name", name, "ready", ready)).build();
  }

  @POST
  @Path("/models/{name}/infer")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Infer with the serving version",
      description =
          "One input tensor, `FP32 [N,1,28,28]` with values in [0,1] or `UINT8 [N,28,28]`"
              + " with values 0..255 (white digit on black), `data` flat or nested, N at most"
              + " 256; the output is `probabilities`, `FP32 [N,10]`.")
  @RequestBody(
      required = true,
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema =
                  @Schema(
                      type = SchemaType.OBJECT,
                      description =
                          "`{\"id\"?, \"inputs\": [{\"name\", \"datatype\": \"FP32\" or"
                              + " \"UINT8\", \"shape\", \"data\"}], \"outputs\"?:"
                              + " [{\"name\": \"probabilities\"}]}`"),
              examples =
                  @ExampleObject(
                      name = "a seven, UINT8",
                      summary = "MNIST test image #0 as UINT8 [1,28,28]",
                      value = ApiExamples.OIP_UINT8)))
  @APIResponse(
      responseCode = "200",
      description = "The probabilities",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "probabilities", value = ApiExamples.OIP_RESPONSE)))
  @APIResponse(
      responseCode = "400",
      description = "A bad request, and why",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  @APIResponse(
      responseCode = "404",
      description = "Another model, or a version that does not serve",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  @APIResponse(
      responseCode = "503",
      description = "No model serves yet, or too many requests wait",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  public CompletionStage<InferResponse> infer(
      @Parameter(description = "The model: lenet5", example = "lenet5") @PathParam("name")
          String name,
      byte[] body) {
    checkName(name);
    return run(body, OptionalLong.empty());
  }

  @POST
  @Path("/models/{name}/versions/{version}/infer")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Infer with one version (it must be the serving one)",
      description =
          "One input tensor, `FP32 [N,1,28,28]` with values in [0,1] or `UINT8 [N,28,28]`"
              + " with values 0..255 (white digit on black), `data` flat or nested, N at most"
              + " 256; the output is `probabilities`, `FP32 [N,10]`.")
  @RequestBody(
      required = true,
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema =
                  @Schema(
                      type = SchemaType.OBJECT,
                      description =
                          "`{\"id\"?, \"inputs\": [{\"name\", \"datatype\": \"FP32\" or"
                              + " \"UINT8\", \"shape\", \"data\"}], \"outputs\"?:"
                              + " [{\"name\": \"probabilities\"}]}`"),
              examples =
                  @ExampleObject(
                      name = "a seven, UINT8",
                      summary = "MNIST test image #0 as UINT8 [1,28,28]",
                      value = ApiExamples.OIP_UINT8)))
  @APIResponse(
      responseCode = "200",
      description = "The probabilities",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "probabilities", value = ApiExamples.OIP_RESPONSE)))
  @APIResponse(
      responseCode = "400",
      description = "A bad request, and why",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  @APIResponse(
      responseCode = "404",
      description = "Another model, or a version that does not serve",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  @APIResponse(
      responseCode = "503",
      description = "No model serves yet, or too many requests wait",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  public CompletionStage<InferResponse> inferVersion(
      @Parameter(description = "The model: lenet5", example = "lenet5") @PathParam("name")
          String name,
      @Parameter(
              description = "A checkpoint version: only the serving one is known",
              example = "12")
          @PathParam("version")
          String version,
      byte[] body) {
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
