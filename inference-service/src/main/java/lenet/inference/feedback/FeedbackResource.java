package lenet.inference.feedback;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import lenet.contract.wire.Label;
import lenet.contract.wire.WireFormatException;
import lenet.inference.config.InferenceConfig;
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
 * {@code POST /api/feedback} with {@code {"id", "digit"}}: the true digit of an image this fleet
 * scored, written to {@code digits.labels} and answered 202 once Kafka holds it. The label's source
 * is {@code http}, or {@code page} with {@code ?source=page} (the inference page's buttons); no
 * other word is taken ({@link FeedbackSource}, 400 {@code INVALID_VALUE}), so an HTTP client cannot
 * name an arbitrary source. JSON only (415 otherwise), at most {@value Label#MAX_BYTES} bytes
 * (413), exactly those two fields with a digit 0-9 (400 with the reason); each client within its
 * allowance ({@code inference.feedback.*}, 429 with {@code Retry-After}); 503 when Kafka does not
 * take it. Open like predictions unless {@code api.read-policy=authenticated}. Every answer is
 * counted ({@code inference_feedback_total{outcome}}).
 */
@Path("/api/feedback")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Feedback", description = "The true digit of a scored image")
public class FeedbackResource {

  /** What became of a request, as counted. */
  enum Outcome {
    ACCEPTED,
    INVALID,
    RATE_LIMITED,
    UNAVAILABLE
  }

  private final LabelWriter writer;
  private final FeedbackLimiter limiter;
  private final Map<Outcome, Counter> counted = new EnumMap<>(Outcome.class);

  FeedbackResource(LabelWriter writer, InferenceConfig config, MeterRegistry registry) {
    this.writer = writer;
    InferenceConfig.Feedback f = config.feedback();
    this.limiter = new FeedbackLimiter(f.rate(), f.burst(), f.clients());
    for (Outcome o : Outcome.values()) {
      counted.put(
          o,
          Counter.builder("inference.feedback")
              .description("Labels sent to POST /api/feedback, by what became of them")
              .tag("outcome", o.name().toLowerCase(Locale.ROOT))
              .register(registry));
    }
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Label a scored image with its true digit",
      description =
          "`{\"id\", \"digit\"}`: `id` is the prediction's id, `digit` 0-9. Written to"
              + " `digits.labels` (key = id) and answered once Kafka holds it; the outcomes join"
              + " counts it in its model version's live accuracy, and a run with `feedback`"
              + " trains on it. At most 1 KB; bounded per client (`inference.feedback.*`).")
  @RequestBody(
      required = true,
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema =
                  @Schema(
                      type = SchemaType.OBJECT,
                      description = "`id` (the prediction's) and `digit` (0-9), nothing else"),
              examples =
                  @ExampleObject(
                      name = "a seven",
                      value = "{\"id\": \"example-1\", \"digit\": 7}")))
  @APIResponse(
      responseCode = "202",
      description = "Kafka holds the label",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "accepted",
                      value = "{\"id\": \"example-1\", \"digit\": 7, \"source\": \"http\"}")))
  @APIResponse(
      responseCode = "400",
      description = "A bad label, and why (unknown field, digit out of range, missing id)",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  @APIResponse(responseCode = "413", description = "Above 1 KB")
  @APIResponse(responseCode = "415", description = "Not JSON")
  @APIResponse(
      responseCode = "429",
      description = "Past the client's allowance; retry after `Retry-After` seconds",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  @APIResponse(
      responseCode = "503",
      description = "Kafka did not take it; retry after `Retry-After` seconds",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  public CompletionStage<Response> feedback(
      byte[] body,
      @Parameter(description = "`http` (the default) or `page` (the inference page's buttons)")
          @QueryParam("source")
          String source,
      @Context HttpServerRequest request) {
    Label label;
    try {
      label = Label.ofFeedback(body, FeedbackSource.of(source).wire(), System.currentTimeMillis());
    } catch (WireFormatException e) {
      counted.get(Outcome.INVALID).increment();
      throw e;
    }
    String client =
        request.remoteAddress() == null ? "unknown" : request.remoteAddress().hostAddress();
    long wait = limiter.take(client, System.nanoTime());
    if (wait > 0) {
      counted.get(Outcome.RATE_LIMITED).increment();
      return java.util.concurrent.CompletableFuture.completedFuture(
          Response.status(429)
              .header("Retry-After", wait)
              .entity(
                  Map.of(
                      "error",
                      "too many labels from this client: try again in " + wait + " s",
                      "reason",
                      "RATE_LIMITED"))
              .build());
    }
    return writer
        .write(label)
        .handle(
            (written, error) -> {
              if (error != null) {
                counted.get(Outcome.UNAVAILABLE).increment();
                return Response.status(Response.Status.SERVICE_UNAVAILABLE)
                    .header("Retry-After", 5)
                    .entity(
                        Map.of(
                            "error",
                            "Kafka did not take the label: " + error.getMessage(),
                            "reason",
                            "UNAVAILABLE"))
                    .build();
              }
              counted.get(Outcome.ACCEPTED).increment();
              return Response.accepted(
                      Map.of(
                          "id", written.id(), "digit", written.digit(), "source", written.source()))
                  .build();
            });
  }
}
