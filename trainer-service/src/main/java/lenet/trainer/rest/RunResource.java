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

/**
 * Runs and their history over HTTP; a run is started by publishing a command, exactly as any other
 * client would.
 */
@Path("/api/runs")
@Produces(MediaType.APPLICATION_JSON)
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
  public Response cancel(@PathParam("runId") String runId) {
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
  public Map<String, Object> get(@PathParam("runId") String runId) {
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
  public byte[] lossChart(@PathParam("runId") String runId) {
    return HistoryCharts.loss(runId, find(runId).history());
  }

  @GET
  @Path("/{runId}/accuracy.png")
  @Produces("image/png")
  public byte[] accuracyChart(@PathParam("runId") String runId) {
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
