package lenet.launcher;

/**
 * One line per component for a person: what runs, under which PID, and how often it was restarted.
 */
final class Status {

  private Status() {}

  /** {@code extra} (e.g. the port) goes after the PID of a running component. */
  static String line(RunDir run, String name, String extra) {
    return switch (run.state(name)) {
      case RUNNING ->
          String.format(
              "%-10s running  pid %-8s %srestarts %d",
              name, run.pid(name).pid().orElse(-1L), extra, run.restarts(name));
      case RESTARTING -> String.format("%-10s restarting (restarts %d)", name, run.restarts(name));
      case STOPPED -> String.format("%-10s stopped", name);
    };
  }
}
