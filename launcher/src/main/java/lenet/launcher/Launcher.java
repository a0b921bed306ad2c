package lenet.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;

/**
 * Starts a {@link Component} as a process of its own: a header line in its log, then its output and
 * errors appended after it, its environment added to this process's, and nothing on its stdin. The
 * process outlives this JVM: stopping it is the caller's job ({@link Launched#stop}, or by its pid
 * file through {@link RunDir}).
 */
public final class Launcher {

  /** Opens every start in a log; {@link Readiness.LogLine} looks only after the last one. */
  public static final String HEADER = "=== ";

  private static final java.time.format.DateTimeFormatter CLOCK =
      java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss");

  private Launcher() {}

  /** The time of day as every launcher message starts with it (HH:mm:ss). */
  static String clock() {
    return java.time.LocalTime.now().format(CLOCK);
  }

  public static Launched start(Component component) {
    Path log = component.log().toAbsolutePath();
    try {
      Files.createDirectories(log.getParent());
      Files.writeString(
          log,
          HEADER
              + OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS)
              + " "
              + component.name()
              + " started by the launcher\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      ProcessBuilder builder =
          new ProcessBuilder(component.command())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      builder.environment().putAll(component.environment());
      Process process = builder.start();
      process.getOutputStream().close();
      return new Launched(component, process);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + component.name() + ": " + e.getMessage(), e);
    }
  }
}
