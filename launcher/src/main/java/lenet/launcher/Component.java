package lenet.launcher;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One process of the topology as the launcher starts it: its name (the name of its pid file), its
 * command line, what it gets in its environment besides the launcher's own (secrets travel there,
 * never on a command line where {@code ps} shows them), the log its output is appended to, and when
 * it counts as ready.
 */
public record Component(
    String name,
    List<String> command,
    Map<String, String> environment,
    Path log,
    Readiness readiness) {

  public Component {
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new IllegalArgumentException("a component name is a file name, not " + name);
    }
    if (command.isEmpty()) {
      throw new IllegalArgumentException(name + " has no command");
    }
    command = List.copyOf(command);
    environment = Map.copyOf(environment);
  }

  /** {@code name} running {@code command}, ready once it runs, nothing added to its environment. */
  public static Component of(String name, Path log, List<String> command) {
    return new Component(name, command, Map.of(), log, Readiness.STARTED);
  }

  public Component readyWhen(Readiness ready) {
    return new Component(name, command, environment, log, ready);
  }

  /** This component with {@code more} added to (or replacing in) its environment. */
  public Component withEnvironment(Map<String, String> more) {
    Map<String, String> all = new LinkedHashMap<>(environment);
    all.putAll(more);
    return new Component(name, command, all, log, readiness);
  }
}
