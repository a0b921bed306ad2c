package lenet.launcher;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The launcher for scripts ({@code bench/run}, {@code faults/run}): {@code java -jar
 * launcher/target/launcher.jar <command>}, every process's files in {@code --run DIR}.
 *
 * <pre>
 * start  --run DIR --name N --log FILE [--ready-log PREFIX | --ready-http URL] [--timeout S]
 *        [--env K=V]... -- COMMAND...   start it, wait until ready, print its PID (exit 1: it
 *                                       exited or was not ready in time, and was stopped)
 * await  --run DIR --name N --log FILE (--ready-log PREFIX | --ready-http URL) [--timeout S]
 * stop   --run DIR [--grace S] NAME...  SIGTERM, SIGKILL after S (30) seconds; by pid file only
 * kill   --run DIR NAME...              SIGKILL at once
 * status --run DIR NAME...              one line each: running (pid, restarts), restarting, stopped
 * </pre>
 *
 * {@code ./pipeline} runs the same classes through its own entry point.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("--help")) {
      System.out.println(
          "usage: launcher start|await|stop|kill|status --run DIR ... (see lenet.launcher.Main)");
      System.exit(args.length == 0 ? 2 : 0);
    }
    Options o = Options.parse(args);
    RunDir run = new RunDir(Path.of(o.required("--run")));
    switch (args[0]) {
      case "start" -> {
        Component c = o.component();
        Launched launched = Launcher.start(c);
        run.pid(c.name()).write(launched.handle());
        try {
          launched.awaitReady(o.timeout());
        } catch (NotReadyException e) {
          launched.stop(Duration.ofSeconds(10));
          run.pid(c.name()).delete();
          System.err.println("ERROR: " + e.getMessage());
          System.exit(1);
        }
        System.out.println(launched.pid());
      }
      case "await" -> {
        Component c = o.component();
        Launched launched =
            run.running(c).orElseThrow(() -> fail(c.name() + " is not running; see " + c.log()));
        try {
          launched.awaitReady(o.timeout());
        } catch (NotReadyException e) {
          System.err.println("ERROR: " + e.getMessage());
          System.exit(1);
        }
      }
      case "stop" -> new Stopper(run, o.grace(), System.out).stop(o.names);
      case "kill" -> new Stopper(run, o.grace(), System.out).kill(o.names);
      case "status" -> {
        for (String name : o.names) {
          System.out.println(Status.line(run, name, ""));
        }
      }
      default -> {
        System.err.println("unknown command " + args[0] + "; try --help");
        System.exit(2);
      }
    }
  }

  private static IllegalStateException fail(String message) {
    System.err.println("ERROR: " + message);
    System.exit(1);
    return new IllegalStateException(message);
  }

  /** The options after the command: {@code --key value} pairs, names, and a command after "--". */
  private record Options(
      Map<String, String> values,
      Map<String, String> env,
      List<String> names,
      List<String> command) {

    static Options parse(String[] args) {
      Map<String, String> values = new LinkedHashMap<>();
      Map<String, String> env = new LinkedHashMap<>();
      List<String> names = new ArrayList<>();
      List<String> command = new ArrayList<>();
      for (int i = 1; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--")) {
          command.addAll(List.of(args).subList(i + 1, args.length));
          break;
        }
        if (a.startsWith("--")) {
          if (i + 1 >= args.length) {
            throw new IllegalArgumentException(a + " needs a value");
          }
          String v = args[++i];
          if (a.equals("--env")) {
            int eq = v.indexOf('=');
            env.put(v.substring(0, eq), v.substring(eq + 1));
          } else {
            values.put(a, v);
          }
        } else {
          names.add(a);
        }
      }
      return new Options(values, env, names, command);
    }

    String required(String key) {
      String v = values.get(key);
      if (v == null) {
        throw new IllegalArgumentException(key + " is required");
      }
      return v;
    }

    Duration timeout() {
      return Duration.ofSeconds(Long.parseLong(values.getOrDefault("--timeout", "120")));
    }

    Duration grace() {
      return Duration.ofSeconds(Long.parseLong(values.getOrDefault("--grace", "30")));
    }

    Component component() {
      Readiness ready = Readiness.STARTED;
      if (values.containsKey("--ready-log")) {
        ready = Readiness.logLine(values.get("--ready-log"));
      } else if (values.containsKey("--ready-http")) {
        ready = Readiness.http(URI.create(values.get("--ready-http")));
      }
      List<String> cmd = command.isEmpty() ? List.of("true") : command;
      return new Component(required("--name"), cmd, env, Path.of(required("--log")), ready);
    }
  }
}
