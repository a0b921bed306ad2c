package lenet.launcher;

import java.nio.file.Path;
import java.util.List;

/** Small real processes for the launcher's tests (sh and sleep), each logging to {@code dir}. */
final class Processes {

  private Processes() {}

  static Component shell(Path dir, String name, String script) {
    return Component.of(name, dir.resolve(name + ".log"), List.of("sh", "-c", script));
  }
}
