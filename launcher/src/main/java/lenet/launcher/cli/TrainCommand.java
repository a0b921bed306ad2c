package lenet.launcher.cli;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code ./pipeline train}: sends a run to the trainer, follows it to its end (a progress line per
 * change, redrawn on a terminal; a JSON line per change with {@code --json}), then waits for the
 * gate's verdict on its version. Exit status 0 when the run completed, whatever the gate decided.
 */
final class TrainCommand {

  /** A version's statuses before its gate has spoken. */
  private static final Set<String> UNGATED = Set.of("CANDIDATE", "EPOCH");

  private final Api api;
  private final PrintStream out;
  private final boolean terminal;

  TrainCommand(Api api, PrintStream out, boolean terminal) {
    this.api = api;
    this.out = out;
    this.terminal = terminal;
  }

  int run(CliArgs a) throws InterruptedException {
    Map<String, Object> command = a.trainingCommand();
    Api.Answer started = api.operatorPost("trainer", "/api/runs", Json.write(command));
    if (!started.ok()) {
      throw new CliException("the trainer refused the run: " + started.error(), 1);
    }
    String runId = String.valueOf(Json.object(started.json()).get("runId"));
    if (a.flag("--no-wait")) {
      out.println(
          a.json()
              ? started.body()
              : "run " + runId + " sent; ./pipeline events --run " + runId + " follows it");
      return 0;
    }
    if (!a.json()) {
      out.println(
          "run "
              + runId
              + " sent to the trainer "
              + Json.write(command)
              + "; Ctrl-C stops watching, ./pipeline cancel "
              + runId
              + " stops the run");
    }
    Map<String, Object> run = watch(runId, command, a.json());
    if (!a.json()) {
      out.println(Render.outcome(run));
    }
    Map<String, Object> result = new LinkedHashMap<>();
    for (String k :
        List.of("runId", "state", "modelVersion", "testAccuracy", "testLoss", "message")) {
      result.put(k, run.get(k));
    }
    if (!"COMPLETED".equals(run.get("state"))) {
      if (a.json()) {
        result.put("gate", null);
        out.println(Json.write(result));
      }
      return 1;
    }
    long timeout = a.number("--gate-timeout").orElse(120L);
    if (!a.json()) {
      out.println("waiting for the gate's verdict on v" + run.get("modelVersion") + "...");
    }
    Optional<Map<String, Object>> gated = awaitGate(runId, timeout);
    result.put("gate", gated.orElse(null));
    if (a.json()) {
      out.println(Json.write(result));
    } else {
      out.println(
          gated
              .map(Render::gate)
              .orElse(
                  "gate: no verdict within "
                      + timeout
                      + " s (is the inference service up? ./pipeline models shows it later)"));
    }
    return 0;
  }

  /** Follows the run until it ends: a progress line on each change (redrawn on a terminal). */
  private Map<String, Object> watch(String runId, Map<String, Object> command, boolean json)
      throws InterruptedException {
    long t0 = System.nanoTime();
    String shown = "";
    while (true) {
      Api.Answer answer = api.get("trainer", "/api/runs/" + Cli.encode(runId));
      Map<String, Object> run;
      if (answer.status() == 404) { // the command is on Kafka, the trainer has not read it yet
        run = new LinkedHashMap<>(Map.of("runId", runId, "state", "SENT", "epochsDone", 0));
        run.put("epochs", command.get("epochs"));
      } else if (answer.ok()) {
        run = new LinkedHashMap<>(Json.object(answer.json()));
        run.keySet().removeAll(List.of("history", "describe", "charts"));
      } else {
        throw new CliException("run " + runId + ": " + answer.error(), 1);
      }
      String state = String.valueOf(run.get("state"));
      String key = state + "/" + run.get("epochsDone");
      long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
      if (json) {
        if (!key.equals(shown)) {
          out.println(Json.write(run));
        }
      } else if (terminal) {
        out.print("\r" + Render.progress(run, seconds) + "\u001b[K");
        if (Cli.RUN_ENDS.contains(state)) {
          out.println();
        }
      } else if (!key.equals(shown)) {
        out.println(Render.progress(run, seconds));
      }
      out.flush();
      shown = key;
      if (Cli.RUN_ENDS.contains(state)) {
        return run;
      }
      Thread.sleep(500);
    }
  }

  /**
   * The run's version that the gate has spoken on ({@code GET /api/models}): its candidate (the
   * final epoch, or its best with {@code gate.candidate=best-epoch}) once no longer waiting.
   */
  private Optional<Map<String, Object>> awaitGate(String runId, long timeoutSeconds)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
    do {
      Api.Answer answer = api.get("inference", "/api/models");
      if (answer.ok()) {
        Optional<Map<String, Object>> gated = gatedVersion(Json.object(answer.json()), runId);
        if (gated.isPresent()) {
          return gated;
        }
      }
      Thread.sleep(500);
    } while (System.nanoTime() < deadline);
    return Optional.empty();
  }

  static Optional<Map<String, Object>> gatedVersion(Map<String, Object> models, String runId) {
    return Json.list(models.get("versions")).stream()
        .map(Json::object)
        .filter(v -> runId.equals(v.get("runId")))
        .filter(v -> v.get("status") != null && !UNGATED.contains(String.valueOf(v.get("status"))))
        .findFirst();
  }
}
