package lenet.launcher.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One CLI command line: the command, its words (a file, a run, a version, a service) and its
 * options. Each command names the options it takes; anything else is refused with its usage.
 */
public record CliArgs(String command, List<String> words, Map<String, String> options) {

  /** What each command takes: how many words, which options with a value, which flags. */
  private record Spec(
      String usage, int minWords, int maxWords, Set<String> valued, Set<String> flags) {}

  private static final Set<String> TRAIN_OPTIONS =
      Set.of(
          "--epochs",
          "--batch-size",
          "--learning-rate",
          "--optimizer",
          "--seed",
          "--run-id",
          "--feedback-share",
          "--gate-timeout");

  private static final Map<String, Spec> SPECS = new LinkedHashMap<>();

  static {
    SPECS.put(
        "predict",
        new Spec(
            "predict FILE.png | --id N   a digit and the model version that scored it (N: MNIST test image)",
            0,
            1,
            Set.of("--id"),
            Set.of("--json")));
    SPECS.put(
        "train",
        new Spec(
            "train [--epochs N] [--batch-size N] [--learning-rate X] [--optimizer adam|adamw|sgd|adagrad|rmsprop]\n"
                + "        [--seed N] [--run-id ID] [--feedback-share X] [--gate-timeout S] [--no-wait]\n"
                + "                             start a run, show its progress, end with the gate's verdict",
            0,
            0,
            TRAIN_OPTIONS,
            Set.of("--json", "--no-wait")));
    SPECS.put(
        "runs",
        new Spec(
            "runs                        every run, newest first",
            0,
            0,
            Set.of(),
            Set.of("--json")));
    SPECS.put(
        "cancel",
        new Spec(
            "cancel RUN                  stop a queued or running run",
            1,
            1,
            Set.of(),
            Set.of("--json")));
    SPECS.put(
        "models",
        new Spec(
            "models                      the versions, their gate results, what serves",
            0,
            0,
            Set.of(),
            Set.of("--json")));
    SPECS.put(
        "pin",
        new Spec(
            "pin V                       every replica serves version V (rollback)",
            1,
            1,
            Set.of(),
            Set.of("--json")));
    SPECS.put(
        "follow",
        new Spec(
            "follow                      drop the pin: the champion serves again",
            0,
            0,
            Set.of(),
            Set.of("--json")));
    SPECS.put(
        "events",
        new Spec(
            "events [--run RUN]          follow training events as they happen (Ctrl-C ends)",
            0,
            0,
            Set.of("--run"),
            Set.of("--json")));
    SPECS.put(
        "logs",
        new Spec(
            "logs SERVICE [-f] [--tail N]  print a service's log (run/logs/SERVICE.log); -f follows it",
            1,
            1,
            Set.of("--tail"),
            Set.of("-f")));
  }

  /** The CLI's commands, in the order the usage lists them. */
  public static Set<String> commands() {
    return SPECS.keySet();
  }

  /** Every command's usage, one entry each. */
  public static String usage() {
    StringBuilder out = new StringBuilder();
    SPECS.values().forEach(s -> out.append("  ./pipeline ").append(s.usage()).append('\n'));
    out.append("  Each takes --json (one JSON document, or one per line for events and train).\n");
    return out.toString();
  }

  /**
   * Parses {@code args} (the command first); an {@link IllegalArgumentException} says what is wrong
   * and the command's usage.
   */
  public static CliArgs parse(String... args) {
    if (args.length == 0 || !SPECS.containsKey(args[0])) {
      throw new IllegalArgumentException(
          (args.length == 0 ? "no command" : "unknown command " + args[0])
              + "; usage:\n"
              + usage());
    }
    String command = args[0];
    Spec spec = SPECS.get(command);
    List<String> words = new ArrayList<>();
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      String value = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) { // --epochs=3
        value = a.substring(eq + 1);
        a = a.substring(0, eq);
      }
      if (spec.valued().contains(a)) {
        if (value == null) {
          if (i + 1 >= args.length) {
            throw bad(spec, a + " needs a value");
          }
          value = args[++i];
        }
        options.put(a, value);
      } else if (spec.flags().contains(a) && value == null) {
        options.put(a, "true");
      } else if (a.startsWith("-") && a.length() > 1 && !a.matches("-\\d+")) {
        throw bad(spec, "unknown option " + a);
      } else {
        words.add(a);
      }
    }
    if (words.size() < spec.minWords() || words.size() > spec.maxWords()) {
      throw bad(spec, "wrong number of arguments");
    }
    if (command.equals("predict") && words.isEmpty() == !options.containsKey("--id")) {
      throw bad(spec, "give either a file or --id N");
    }
    return new CliArgs(command, List.copyOf(words), Map.copyOf(options));
  }

  private static IllegalArgumentException bad(Spec spec, String what) {
    return new IllegalArgumentException(what + "; usage: ./pipeline " + spec.usage());
  }

  public boolean json() {
    return options.containsKey("--json");
  }

  public boolean flag(String name) {
    return options.containsKey(name);
  }

  public Optional<String> option(String name) {
    return Optional.ofNullable(options.get(name));
  }

  /** An option that must be a whole number when given. */
  public Optional<Long> number(String name) {
    return option(name).map(v -> whole(name, v));
  }

  public String word(int i) {
    return words.get(i);
  }

  /**
   * The training command the options describe, in the shape {@code training.commands} takes ({@code
   * {}}: the trainer's defaults); numbers are checked here, ranges by the trainer.
   */
  public Map<String, Object> trainingCommand() {
    Map<String, Object> command = new LinkedHashMap<>();
    option("--run-id").ifPresent(v -> command.put("runId", v));
    number("--epochs").ifPresent(v -> command.put("epochs", v));
    number("--batch-size").ifPresent(v -> command.put("batchSize", v));
    option("--learning-rate")
        .ifPresent(v -> command.put("learningRate", decimal("--learning-rate", v)));
    option("--optimizer").ifPresent(v -> command.put("optimizer", v));
    number("--seed").ifPresent(v -> command.put("seed", v));
    option("--feedback-share")
        .ifPresent(v -> command.put("feedback", Map.of("share", decimal("--feedback-share", v))));
    return command;
  }

  private static long whole(String name, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a whole number, not " + v);
    }
  }

  private static double decimal(String name, String v) {
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a number, not " + v);
    }
  }
}
