package lenet.launcher.cli;

import java.io.Console;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import lenet.launcher.PipelineSettings;

/**
 * {@code ./pipeline predict|train|runs|cancel|models|pin|follow|events|logs}: the everyday tasks
 * over the services' HTTP APIs (no Kafka tool needed), for a person (progress bars, tables) or,
 * with {@code --json}, for a script. Exit status: 0 done, 1 refused or failed, 2 a bad command
 * line.
 */
public final class Cli {

  static final Set<String> RUN_ENDS = Set.of("COMPLETED", "FAILED", "CANCELLED");

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
      case "train" -> new TrainCommand(api, out, terminal).run(a);
      case "runs" -> show(a, api.get("trainer", "/api/runs"), b -> Render.runs(Json.list(b)));
      case "cancel" -> cancel(a);
      case "models" ->
          show(a, api.get("inference", "/api/models"), b -> Render.models(Json.object(b)));
      case "pin" -> pin(a);
      case "follow" -> follow(a);
      case "events" -> events(a);
      case "logs" -> new LogsCommand(settings.logs(), out).run(a);
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

  // ------------------------------------------------------------------------------------ events

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

  static String encode(String s) {
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
