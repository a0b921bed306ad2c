package lenet.launcher.cli;

import java.io.Console;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import lenet.launcher.PipelineSettings;

/**
 * {@code ./pipeline predict|train|runs|cancel|models|pin|follow|events|logs}: the everyday tasks
 * over the services' HTTP APIs (no Kafka tool needed), for a person (progress bars, tables) or,
 * with {@code --json}, for a script. Exit status: 0 done, 1 refused or failed, 2 a bad command
 * line.
 */
public final class Cli {

  private static final Set<String> RUN_ENDS = Set.of("COMPLETED", "FAILED", "CANCELLED");

  /** A version's statuses before its gate has spoken. */
  private static final Set<String> UNGATED = Set.of("CANDIDATE", "EPOCH");

  private final PipelineSettings settings;
  private final Api api;
  private final PrintStream out;
  private final boolean terminal;

  Cli(PipelineSettings settings, PrintStream out, boolean terminal) {
    this.settings = settings;
    this.api = new Api(settings);
    this.out = out;
    this.terminal = terminal;
  }

  public static boolean handles(String command) {
    return CliArgs.commands().contains(command);
  }

  public static String usage() {
    return CliArgs.usage();
  }

  /** Runs one command line; its exit status. Messages for the user go to {@code err}. */
  public static int run(
      String[] args, PipelineSettings settings, PrintStream out, PrintStream err) {
    try {
      CliArgs a = CliArgs.parse(args);
      return new Cli(settings, out, !a.json() && terminal()).run(a);
    } catch (CliException e) {
      err.println("ERROR: " + e.getMessage());
      return e.status();
    } catch (IllegalArgumentException e) {
      err.println("ERROR: " + e.getMessage());
      return 2;
    } catch (IOException e) {
      err.println("ERROR: " + e);
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 130;
    } finally {
      out.flush();
    }
  }

  int run(CliArgs a) throws IOException, InterruptedException {
    return switch (a.command()) {
      case "predict" -> predict(a);
      case "train" -> train(a);
      case "runs" -> show(a, api.get("trainer", "/api/runs"), b -> Render.runs(Json.list(b)));
      case "cancel" -> cancel(a);
      case "models" ->
          show(a, api.get("inference", "/api/models"), b -> Render.models(Json.object(b)));
      case "pin" -> pin(a);
      case "follow" -> follow(a);
      case "events" -> events(a);
      case "logs" -> logs(a);
      default -> throw new IllegalArgumentException("unknown command " + a.command());
    };
  }

  // ------------------------------------------------------------------------------------ predict

  private int predict(CliArgs a) throws IOException {
    Api.Answer answer;
    Optional<MnistTestImage> image = Optional.empty();
    if (a.option("--id").isPresent()) {
      long index = a.number("--id").orElseThrow();
      if (index < 0 || index > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("--id must be an MNIST test image index, 0..9999");
      }
      image = Optional.of(MnistTestImage.read(settings.root().resolve("data/mnist"), (int) index));
      answer =
          api.post("inference", "/api/predict", "application/x-mnist-u8", image.get().pixels());
    } else {
      // The script changes to the repository: a relative FILE is where the user typed it.
      Path file =
          Path.of(settings.env().getOrDefault("PIPELINE_CALLER_DIR", "")).resolve(a.word(0));
      if (!Files.isRegularFile(file)) {
        throw new CliException("no file " + file, 2);
      }
      answer = api.post("inference", "/api/predict", contentType(file), Files.readAllBytes(file));
    }
    if (!answer.ok()) {
      throw new CliException(
          "no prediction: "
              + answer.error()
              + (answer.status() == 503 ? " (no model serves yet: ./pipeline models)" : ""),
          1);
    }
    Map<String, Object> p = new LinkedHashMap<>(Json.object(answer.json()));
    if (a.json()) {
      image.ifPresent(
          i -> {
            p.put("mnistTestImage", i.index());
            p.put("trueLabel", i.label());
          });
      out.println(Json.write(p));
    } else {
      out.println(
          image
                  .map(i -> "MNIST test image #" + i.index() + " (true label " + i.label() + "): ")
                  .orElse("")
              + Render.prediction(p));
    }
    return 0;
  }

  /** What the inference service takes the file as: by its name, else it looks at the bytes. */
  static String contentType(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".png")) {
      return "image/png";
    }
    if (name.endsWith(".jpg") || name.endsWith(".jpeg")) {
      return "image/jpeg";
    }
    if (name.endsWith(".json")) {
      return "application/json";
    }
    return "application/octet-stream";
  }

  // -------------------------------------------------------------------------------------- train

  private int train(CliArgs a) throws InterruptedException {
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
      Api.Answer answer = api.get("trainer", "/api/runs/" + encode(runId));
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
        if (RUN_ENDS.contains(state)) {
          out.println();
        }
      } else if (!key.equals(shown)) {
        out.println(Render.progress(run, seconds));
      }
      out.flush();
      shown = key;
      if (RUN_ENDS.contains(state)) {
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

  // ------------------------------------------------------------------------ runs, models, pins

  private int cancel(CliArgs a) {
    String runId = a.word(0);
    Api.Answer answer = api.operatorDelete("trainer", "/api/runs/" + encode(runId));
    if (!answer.ok()) {
      throw new CliException("cannot cancel run " + runId + ": " + answer.error(), 1);
    }
    out.println(
        a.json()
            ? answer.body()
            : "cancel sent for run "
                + runId
                + ": a queued run never starts, a running one stops within one epoch");
    return 0;
  }

  private int pin(CliArgs a) {
    String v = a.word(0).replaceFirst("^[vV]", "");
    if (!v.matches("\\d+")) {
      throw new IllegalArgumentException("pin takes a model version (a number), not " + a.word(0));
    }
    Api.Answer answer = api.operatorPost("inference", "/api/models/" + v + "/activate", "{}");
    if (!answer.ok()) {
      throw new CliException("cannot pin v" + v + ": " + answer.error(), 1);
    }
    out.println(
        a.json()
            ? answer.body()
            : "pinned v"
                + v
                + ": every replica serves it, also after restarts (./pipeline follow returns to the"
                + " champion)");
    return 0;
  }

  private int follow(CliArgs a) {
    Api.Answer answer = api.operatorPost("inference", "/api/models/follow", "{}");
    if (!answer.ok()) {
      throw new CliException("cannot follow: " + answer.error(), 1);
    }
    Map<String, Object> m = Json.object(answer.json());
    out.println(
        a.json()
            ? answer.body()
            : "following: the champion serves (now v" + m.get("serving") + ")");
    return 0;
  }

  private int show(
      CliArgs a, Api.Answer answer, java.util.function.Function<Object, String> human) {
    if (!answer.ok()) {
      throw new CliException(answer.error(), 1);
    }
    out.print(a.json() ? answer.body() + "\n" : human.apply(answer.json()));
    return 0;
  }

  // ------------------------------------------------------------------------------ events, logs

  private int events(CliArgs a) {
    Optional<String> only = a.option("--run");
    if (!a.json()) {
      System.err.println(
          "following training events"
              + only.map(r -> " of run " + r).orElse("")
              + " on the trainer :"
              + settings.trainerPort()
              + " (from now on; Ctrl-C ends)");
    }
    boolean[] ended = {false};
    api.events(
        data -> {
          Map<String, Object> e = Json.object(Json.parse(data));
          if (only.isPresent() && !only.get().equals(e.get("runId"))) {
            return true;
          }
          out.println(a.json() ? data : Render.event(e));
          out.flush();
          ended[0] = only.isPresent() && RUN_ENDS.contains(String.valueOf(e.get("type")));
          return !ended[0];
        });
    return ended[0] || only.isEmpty() ? 0 : 1;
  }

  private int logs(CliArgs a) throws IOException, InterruptedException {
    String name = a.word(0);
    Path file = settings.logs().resolve(name + ".log");
    if (!name.matches("[a-z0-9-]+") || !Files.isRegularFile(file)) {
      throw new CliException("no log " + file + "; there are: " + logNames(), 1);
    }
    long tail = a.number("--tail").orElse(-1L);
    long position = 0;
    if (tail >= 0) {
      Deque<String> last = new ArrayDeque<>();
      try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
        lines.forEach(
            l -> {
              last.add(l);
              if (last.size() > tail) {
                last.removeFirst();
              }
            });
      }
      last.forEach(out::println);
      position = Files.size(file);
    }
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      byte[] buffer = new byte[64 * 1024];
      while (true) {
        if (f.length() < position) { // the log started again (a restart truncates it)
          position = 0;
        }
        f.seek(position);
        int n;
        while ((n = f.read(buffer)) > 0) {
          out.write(buffer, 0, n);
          position += n;
        }
        out.flush();
        if (!a.flag("-f")) {
          return 0;
        }
        Thread.sleep(500);
      }
    }
  }

  private String logNames() throws IOException {
    if (!Files.isDirectory(settings.logs())) {
      return "none (" + settings.logs() + " is missing: ./pipeline up)";
    }
    try (Stream<Path> files = Files.list(settings.logs())) {
      return String.join(
          ", ",
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".log"))
              .map(n -> n.substring(0, n.length() - 4))
              .sorted()
              .toList());
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** Whether output goes to a terminal (a progress bar redrawn in place), not a file or pipe. */
  static boolean terminal() {
    Console c = System.console();
    if (c == null) {
      return false;
    }
    try { // JDK 22+: a console exists without a terminal too
      return (Boolean) Console.class.getMethod("isTerminal").invoke(c);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }
}
