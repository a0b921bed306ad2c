package lenet.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The folder where the launcher keeps what it started, one set of files per component: {@code
 * <name>.pid} (the process), {@code <name>.supervisor} (the supervisor that restarts it), {@code
 * <name>.restarts} (how often it did). Stopping and status read only these: the launcher signals
 * nothing it did not start.
 */
public record RunDir(Path dir) {

  public PidFile pid(String name) {
    return new PidFile(dir.resolve(name + ".pid"));
  }

  public PidFile supervisor(String name) {
    return new PidFile(dir.resolve(name + ".supervisor"));
  }

  public int restarts(String name) {
    try {
      Path file = dir.resolve(name + ".restarts");
      return Files.exists(file) ? Integer.parseInt(Files.readString(file).trim()) : 0;
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  void restarts(String name, int count) {
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve(name + ".restarts");
      if (count == 0) {
        Files.deleteIfExists(file);
      } else {
        Files.writeString(file, count + "\n");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The component's process while it runs, as the launcher started it. */
  public java.util.Optional<Launched> running(Component component) {
    return pid(component.name()).running().map(h -> new Launched(component, h));
  }

  /** What the component is doing now. */
  public State state(String name) {
    if (pid(name).running().isPresent()) {
      return State.RUNNING;
    }
    return supervisor(name).running().isPresent() ? State.RESTARTING : State.STOPPED;
  }

  /** A component runs, waits under its supervisor to be started again, or neither. */
  public enum State {
    RUNNING,
    RESTARTING,
    STOPPED
  }
}
