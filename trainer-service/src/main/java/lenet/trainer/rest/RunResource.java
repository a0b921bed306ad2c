package lenet.trainer.rest;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import lenet.contract.wire.TrainingCommand;
import lenet.contract.wire.WireFormatException;
import lenet.service.api.ApiError;
import lenet.service.security.Mutating;
import lenet.service.security.Roles;
import lenet.trainer.TrainerConfig;
import lenet.trainer.kafka.TrainingPublisher;
import lenet.trainer.runs.CommandIntake;
import lenet.trainer.runs.HistoryCharts;
import lenet.trainer.runs.HistoryStats;
import lenet.trainer.runs.RunLimits;
import lenet.trainer.runs.RunRegistry;
import lenet.trainer.runs.RunService;
import lenet.trainer.training.RunSpec;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Runs and their history over HTTP; a run is started by publishing a command, exactly as any other
 * client would.
 */
@Path("/api/runs")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Runs", description = "Training runs: start, cancel, follow, their history")
public class RunResource {

  private final RunRegistry registry;
  private final TrainingPublisher publisher;
  private final CommandIntake intake;
  private final RunLimits limits;
  private final RunService runs;
  private final TrainerConfig config;

  RunResource(
      RunRegistry registry,
      TrainingPublisher publisher,
      CommandIntake intake,
      RunLimits limits,
      RunService runs,
      TrainerConfig config) {
    this.runs = runs;
    this.registry = registry;
    this.publisher = publisher;
    this.intake = intake;
    this.limits = limits;
    this.config = config;
  }

  /**
   * Every run, newest first, without the per-epoch table; a queued run has its place in this
   * trainer's queue ({@code position}, 1 = next).
   */
  @GET
  @Operation(
      summary = "Every run, newest first",
      description =
          "Each run's state (QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED), settings, epochs"
              + " done, last epoch, test figures and model version; a queued run has its"
              + " `position` (1 = next).")
  @APIResponse(
      responseCode = "200",
      description = "The runs",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "one run", value = "[" + RUN_EXAMPLE + "]")))
  public List<Map<String, Object>> list() {
    return registry.all().stream().map(this::summary).toList();
  }

  /**
   * Cancels a run by publishing {@code {"cancel": "<runId>"}} to {@code training.commands}, as any
   * client can: a queued run never starts, a running one stops within one epoch (a CANCELLED
   * event). 202; 404 for an unknown run; 409 for one that is over.
   */
  @DELETE
  @Mutating
  @RolesAllowed(Roles.OPERATOR)
  @Path("/{runId}")
  @Operation(
      summary = "Cancel a run (API token)",
      description =
          "Publishes `{\"cancel\": \"<runId>\"}` to `training.commands`: a queued run never"
              + " starts, a running one stops within one epoch (a CANCELLED event).")
  @APIResponse(
      responseCode = "202",
      description = "The cancel is on Kafka",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "cancelled",
                      value = "{\"cancel\": \"my-run\", \"status\": \"/api/runs/my-run\"}")))
  @APIResponse(responseCode = "404", description = "No such run")
  @APIResponse(
      responseCode = "409",
      description = "The run is over already",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "over",
                      value = "{\"error\": \"run my-run is already COMPLETED\"}")))
  public Response cancel(
      @Parameter(description = "The run", example = "my-run") @PathParam("runId") String runId) {
    RunRegistry.Run run = find(runId);
    if (!"QUEUED".equals(run.state()) && !"RUNNING".equals(run.state())) {
      return Response.status(Response.Status.CONFLICT)
          .entity(Map.of("error", "run " + runId + " is already " + run.state()))
          .build();
    }
    publisher.cancel(runId);
    return Response.accepted(Map.of("cancel", runId, "status", "/api/runs/" + runId)).build();
  }

  /** One run: its settings, outcome, the per-epoch history table and its describe() statistics. */
  @GET
  @Path("/{runId}")
  @Operation(
      summary = "One run with its per-epoch history",
      description =
          "The run as the list shows it, plus `history` (one row per epoch: loss, accuracy,"
              + " devLoss, devAccuracy, seconds, imagesPerSecond, modelVersion), `describe` (the"
              + " history's statistics: count, mean, std, min, quartiles, max) and the chart URLs;"
              + " while it trains, `trainedEpoch` and `epochsWaitingForKafka`.")
  @APIResponse(
      responseCode = "200",
      description = "The run",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "completed", value = RUN_EXAMPLE)))
  @APIResponse(responseCode = "404", description = "No such run")
  public Map<String, Object> get(
      @Parameter(description = "The run", example = "my-run") @PathParam("runId") String runId) {
    RunRegistry.Run run = find(runId);
    Map<String, Object> out = summary(run);
    out.put("history", run.history());
    out.put("describe", HistoryStats.describe(run.history()));
    out.put(
        "charts",
        Map.of(
            "loss",
            "/api/runs/" + runId + "/loss.png",
            "accuracy",
            "/api/runs/" + runId + "/accuracy.png"));
    return out;
  }

  @GET
  @Path("/{runId}/loss.png")
  @Produces("image/png")
  @Operation(summary = "Loss per epoch, training vs dev, as a PNG chart")
  @APIResponse(
      responseCode = "200",
      description = "The chart",
      content =
          @Content(
              mediaType = "image/png",
              schema =
                  @Schema(
                      type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.STRING,
                      format = "binary")))
  @APIResponse(responseCode = "404", description = "No such run")
  public byte[] lossChart(
      @Parameter(description = "The run", example = "my-run") @PathParam("runId") String runId) {
    return HistoryCharts.loss(runId, find(runId).history());
  }

  @GET
  @Path("/{runId}/accuracy.png")
  @Produces("image/png")
  @Operation(summary = "Accuracy per epoch, training vs dev, as a PNG chart")
  @APIResponse(
      responseCode = "200",
      description = "The chart",
      content =
          @Content(
              mediaType = "image/png",
              schema =
                  @Schema(
                      type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.STRING,
                      format = "binary")))
  @APIResponse(responseCode = "404", description = "No such run")
  public byte[] accuracyChart(
      @Parameter(description = "The run", example = "my-run") @PathParam("runId") String runId) {
    return HistoryCharts.accuracy(runId, find(runId).history());
  }

  /**
   * Starts a run by publishing the body (a training command, {@code {}} for defaults) to {@code
   * training.commands}. 202 with the run id; 400 with the reason for a bad command.
   */
  @POST
  @Mutating
  @RolesAllowed(Roles.OPERATOR)
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Start a run (API token)",
      description =
          "Publishes the body, a training command, to `training.commands`, as any Kafka client"
              + " can. Every field is optional (`{}` takes the trainer's defaults): `runId`"
              + " (letters, digits, `.`, `_`, `-`), `epochs` (1..1000), `batchSize` (1..60000),"
              + " `learningRate` [1e-9, 10], `optimizer` (adam, adamw, sgd, adagrad, rmsprop), `seed`,"
              + " `feedback` ({\"share\": 0 < s < 1}: also train on the labels users sent).")
  @RequestBody(
      description = "A training command",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = TrainingCommand.class),
              examples = {
                @ExampleObject(name = "defaults", summary = "The trainer's defaults", value = "{}"),
                @ExampleObject(
                    name = "three epochs",
                    value = "{\"runId\": \"my-run\", \"epochs\": 3}"),
                @ExampleObject(
                    name = "every field",
                    value =
                        "{\"runId\": \"tuned\", \"epochs\": 20, \"batchSize\": 128,"
                            + " \"learningRate\": 0.01, \"optimizer\": \"adamw\", \"seed\": 42,"
                            + " \"feedback\": {\"share\": 0.2}}")
              }))
  @APIResponse(
      responseCode = "202",
      description = "The command is on Kafka; follow the run at `status`",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "accepted",
                      value = "{\"runId\": \"my-run\", \"status\": \"/api/runs/my-run\"}")))
  @APIResponse(
      responseCode = "400",
      description = "A bad command, and why",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = ApiError.class),
              examples =
                  @ExampleObject(
                      name = "epochs",
                      value =
                          "{\"error\": \"'epochs' must be in 1..1000\", \"reason\":"
                              + " \"INVALID_VALUE\"}")))
  public Response start(byte[] body) {
    TrainingCommand command;
    try {
      command = TrainingCommand.decode(body == null || body.length == 0 ? "{}".getBytes() : body);
      limits.check(RunSpec.of("http", command, config));
    } catch (WireFormatException e) {
      return Response.status(400)
          .entity(Map.of("error", e.getMessage(), "reason", e.reason().name()))
          .build();
    }
    String runId =
        command.runId() != null
            ? command.runId()
            : "run-" + UUID.randomUUID().toString().substring(0, 8);
    publisher.command(runId, command.withRunId(runId));
    return Response.accepted(Map.of("runId", runId, "status", "/api/runs/" + runId)).build();
  }

  /** A run as the API shows it, for the document's examples. */
  static final String RUN_EXAMPLE =
      "{\"runId\": \"my-run\", \"state\": \"COMPLETED\", \"epochs\": 3, \"epochsDone\": 3,"
          + " \"device\": \"cpu()\", \"settings\": \"epochs=3 batchSize=128 optimizer=adamw"
          + " learningRate=0.01 schedule=cosine seed=42 augmentation=none warmUpEpochs=1.0"
          + " labelSmoothing=0.0 emaDecay=0.0 weightDecay=0.1\", \"startedAt\": 1764672000000, \"finishedAt\":"
          + " 1764672060000, \"modelVersion\": 12, \"testLoss\": 0.035, \"testAccuracy\": 0.9889,"
          + " \"last\": {\"epoch\": 3, \"loss\": 0.05, \"accuracy\": 0.984, \"devLoss\": 0.04,"
          + " \"devAccuracy\": 0.987, \"seconds\": 20.1, \"imagesPerSecond\": 2388,"
          + " \"modelVersion\": 12}, \"message\": null}";

  private RunRegistry.Run find(String runId) {
    return registry.get(runId).orElseThrow(() -> new NotFoundException("no run " + runId));
  }

  private Map<String, Object> summary(RunRegistry.Run r) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("runId", r.runId());
    out.put("state", r.state());
    out.put("epochs", r.epochs());
    out.put("epochsDone", r.history().size());
    out.put("device", r.device());
    out.put("settings", r.settings());
    out.put("startedAt", r.startedAt());
    out.put("finishedAt", r.finishedAt());
    out.put("modelVersion", r.modelVersion());
    out.put("testLoss", r.testLoss());
    out.put("testAccuracy", r.testAccuracy());
    if (!r.history().isEmpty()) {
      RunRegistry.EpochRow last = r.history().get(r.history().size() - 1);
      out.put("last", last);
    }
    out.put("message", r.message());
    runs.progress()
        .filter(p -> p.runId().equals(r.runId()))
        .ifPresent(
            p -> {
              // Trained here, published or not: during a broker outage the run trains on.
              out.put("trainedEpoch", p.trainedEpoch());
              out.put("epochsWaitingForKafka", p.waitingForKafka());
            });
    if ("QUEUED".equals(r.state())) {
      int at = intake.waiting().indexOf(r.runId());
      out.put("position", at >= 0 ? at + 1 : r.position());
    }
    return out;
  }
}
