package lenet.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import lenet.contract.wire.Json;

/**
 * A bench driver started as bench/run starts it: a JVM of its own (the drivers end with {@code
 * System.exit}), bench/run's JVM options and environment, the drivers' classes in front of what
 * they are compiled against, stdout and stderr in files.
 */
final class Driver {

  /** The module directory: bench/run, report.py and lenet_pytorch.py are here. */
  static final Path BENCH = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();

  private static final String JAVA =
      Path.of(System.getProperty("java.home"), "bin", "java").toString();

  private Driver() {}

  /**
   * {@code java} with bench/run's options for its drivers (the JBoss log manager, {@code -Xmx}),
   * {@code options}, the drivers' classpath, then the main class and its arguments. One option is
   * the test's own: the JIT's first tier only (a JVM that runs for a second or two starts on about
   * 40% less CPU); what the drivers compute does not depend on it.
   */
  static List<String> java(String heap, List<String> options, String mainClass, String... args) {
    String classpath = System.getProperty("bench.driver.classpath");
    assertThat(classpath).as("bench.driver.classpath (set in bench/pom.xml)").isNotBlank();
    List<String> command = new ArrayList<>();
    command.add(JAVA);
    command.add("-Djava.util.logging.manager=org.jboss.logmanager.LogManager");
    command.add("-Xmx" + heap);
    command.add("-XX:TieredStopAtLevel=1");
    command.addAll(options);
    command.add("-cp");
    command.add(classpath);
    command.add(mainClass);
    command.addAll(Arrays.asList(args));
    return command;
  }

  /** What a finished process left: its exit code and output. */
  record Finished(String name, int exitCode, String stdout, String stderr, Path stdoutFile) {

    /** Exited 0, else fails the test with the process's own words. */
    Finished succeeded() {
      assertThat(exitCode).as("%s exit code; stderr ends:%n%s", name, tail(stderr)).isZero();
      return this;
    }

    /** Its last JSON line, as bench/run's report.py reads it. */
    JsonNode json() {
      List<String> lines = stdout.lines().filter(l -> l.strip().startsWith("{")).toList();
      assertThat(lines).as("%s printed no JSON line; stdout:%n%s", name, tail(stdout)).isNotEmpty();
      try {
        return Json.MAPPER.readTree(lines.get(lines.size() - 1));
      } catch (IOException e) {
        throw new AssertionError(name + " printed a line that is not JSON: " + lines, e);
      }
    }
  }

  /** Runs {@code command} in {@code work} to its end, killed and failed after {@code timeout}. */
  static Finished run(Path work, String name, List<String> command, Duration timeout) {
    Process p = start(work, name, command);
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(
            name
                + " did not end within "
                + timeout
                + "; stderr ends:\n"
                + tail(read(err(work, name))));
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new AssertionError(name + " interrupted", e);
    }
    return new Finished(
        name, p.exitValue(), read(out(work, name)), read(err(work, name)), out(work, name));
  }

  /** Starts {@code command} in {@code work}; the caller stops it. */
  static Process start(Path work, String name, List<String> command) {
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .directory(work.toFile())
            .redirectOutput(out(work, name).toFile())
            .redirectError(err(work, name).toFile());
    pb.environment().put("MALLOC_ARENA_MAX", "2"); // as bench/run's SVC_ENV
    try {
      return pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + command, e);
    }
  }

  /** Stops a process {@link #start} started: SIGTERM, then SIGKILL after 10 s. */
  static void stop(Process p) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** The stderr of a process {@link #start} started, for failure messages. */
  static String stderrOf(Path work, String name) {
    return tail(read(err(work, name)));
  }

  private static Path out(Path work, String name) {
    return work.resolve(name + ".out");
  }

  private static Path err(Path work, String name) {
    return work.resolve(name + ".err");
  }

  private static String read(Path file) {
    try {
      return Files.isRegularFile(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String tail(String text) {
    return text.length() <= 4000 ? text : "..." + text.substring(text.length() - 4000);
  }
}
