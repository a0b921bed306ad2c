package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import lenet.kafka.KafkaNodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ./pipeline} itself, run as a user runs it (the script, the launcher it runs, the
 * launcher's supervisors, a real broker from local-kafka.jar), on free ports with its own {@code
 * PIPELINE_RUN} and {@code KAFKA_DATA}: a {@code down} while {@code up} is still starting ends that
 * {@code up} within seconds, and an {@code up} while a {@code down} runs starts nothing. Cheap on
 * purpose: the {@code up} is stopped while it waits for its broker, before any service starts.
 * Every process the scripts started is killed by PID at the end, whatever happened.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class PipelineScriptIT {

  private static final Path SCRIPT = Services.REPO.resolve("pipeline").toAbsolutePath();

  private Path dir;
  private Path run;
  private int kafkaPort;
  private final Map<String, Process> scripts = new LinkedHashMap<>();

  /** Every process seen under the scripts (supervisors, the broker), for the cleanup by PID. */
  private final Map<Long, ProcessHandle> seen = new LinkedHashMap<>();

  @BeforeEach
  void freshFolders(TestInfo test) throws IOException {
    dir = Path.of("target", "pipeline-it", test.getTestMethod().orElseThrow().getName());
    deleteRecursively(dir);
    run = Files.createDirectories(dir.resolve("run"));
    kafkaPort = KafkaNodes.onFreePorts(1).port(1);
  }

  @AfterEach
  void killWhatIsLeft() throws Exception {
    collectProcesses();
    for (ProcessHandle p : seen.values()) {
      p.destroyForcibly();
    }
    for (ProcessHandle p : seen.values()) {
      p.onExit().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void downWhileUpStartsEndsThatUpWithinSeconds() throws Exception {
    Process up = script("up", "up", "-d");
    ProcessHandle broker = awaitBroker(up);

    Process down = script("down", "down");
    assertThat(finishes(down, Duration.ofSeconds(90))).as("down returns").isTrue();
    assertThat(down.exitValue()).as("down's exit code; see " + log("down")).isZero();

    assertThat(finishes(up, Duration.ofSeconds(10)))
        .as("the starting up ends within 10 s of down returning; see " + log("up"))
        .isTrue();
    assertThat(up.exitValue()).as("an up that did not start everything").isNotZero();
    assertThat(output("up")).contains("stopped while starting: ./pipeline down runs");
    assertNothingRuns(broker);
  }

  @Test
  void upWhileDownRunsStartsNothing() throws Exception {
    Process first = script("up", "up", "-d");
    ProcessHandle broker = awaitBroker(first);

    Process down = script("down", "down");
    await("down asks everything to stop, then waits for the starting up; see " + log("down"))
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> Files.exists(log("down")) && output("down").contains("waiting for"));
    Process second = script("second-up", "up", "-d");
    assertThat(down.isAlive())
        .as("down still runs when the second up starts (else this test proves nothing)")
        .isTrue();

    assertThat(finishes(second, Duration.ofSeconds(10)))
        .as("the up started during down ends at once; see " + log("second-up"))
        .isTrue();
    assertThat(second.exitValue()).isNotZero();
    assertThat(output("second-up")).contains("is stopping the pipeline");
    assertThat(finishes(down, Duration.ofSeconds(90))).as("down returns").isTrue();
    assertThat(down.exitValue()).as("down's exit code; see " + log("down")).isZero();
    assertThat(finishes(first, Duration.ofSeconds(10))).as("the first up ended too").isTrue();
    assertNothingRuns(broker);
  }

  /**
   * Neither the broker nor any supervisor or script process runs, and the broker's port is free.
   */
  private void assertNothingRuns(ProcessHandle broker) throws Exception {
    collectProcesses();
    await("every process of the pipeline gone")
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () ->
                assertThat(seen.values().stream().filter(ProcessHandle::isAlive))
                    .as("still running, started by the scripts")
                    .extracting(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
                    .isEmpty());
    assertThat(broker.isAlive()).isFalse();
    try (Stream<Path> files = Files.list(run)) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .as("pid files left in " + run)
          .noneMatch(f -> f.endsWith(".pid") || f.endsWith(".supervisor"));
    }
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new java.net.InetSocketAddress("127.0.0.1", kafkaPort), 500);
      throw new AssertionError("something still listens on the broker's port " + kafkaPort);
    } catch (java.net.ConnectException expected) {
      // free
    }
  }

  /** The broker `up` started (its supervisor wrote its PID), while `up` waits for it. */
  private ProcessHandle awaitBroker(Process up) {
    Path pidFile = run.resolve("kafka.pid");
    return await("up starts the broker; see " + log("up"))
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              collectProcesses();
              if (!up.isAlive()) {
                throw new AssertionError("up ended before the broker started: " + output("up"));
              }
              return readPid(pidFile).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive);
            },
            Optional::isPresent)
        .orElseThrow();
  }

  /**
   * Runs {@code ./pipeline args} with this test's ports and folders; output in {@code log(name)}.
   */
  private Process script(String name, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(SCRIPT.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log(name).toFile()));
    Map<String, String> env = pb.environment();
    env.keySet()
        .removeIf(
            k ->
                k.startsWith("KAFKA_")
                    || k.startsWith("INFERENCE_")
                    || k.startsWith("TRAINER_")
                    || k.startsWith("INGEST_")
                    || k.equals("API_TOKEN")
                    || k.equals("PIPELINE_RUN"));
    env.put("PIPELINE_RUN", run.toAbsolutePath().toString());
    env.put("KAFKA_DATA", dir.resolve("kafka").toAbsolutePath().toString());
    env.put("KAFKA_PORT", String.valueOf(kafkaPort));
    env.put("INGEST_PORT", String.valueOf(Services.freePort()));
    env.put("TRAINER_PORT", String.valueOf(Services.freePort()));
    env.put("INFERENCE_PORT", String.valueOf(Services.freePort()));
    env.put("FIRST_RUN_EPOCHS", "1");
    Process p = pb.start();
    scripts.put(name, p);
    seen.put(p.pid(), p.toHandle());
    return p;
  }

  /** Notes every process under the scripts and every PID the run folder names. */
  private void collectProcesses() throws IOException {
    for (Process p : scripts.values()) {
      p.descendants().forEach(h -> seen.putIfAbsent(h.pid(), h));
    }
    if (Files.isDirectory(run)) {
      try (Stream<Path> files = Files.list(run)) {
        for (Path f : files.toList()) {
          String name = f.getFileName().toString();
          if (name.endsWith(".pid") || name.endsWith(".supervisor")) {
            readPid(f).flatMap(ProcessHandle::of).ifPresent(h -> seen.putIfAbsent(h.pid(), h));
          }
        }
      }
    }
  }

  private boolean finishes(Process p, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (p.isAlive() && System.nanoTime() < deadline) {
      collectProcesses();
      p.waitFor(200, TimeUnit.MILLISECONDS);
    }
    return !p.isAlive();
  }

  private static Optional<Long> readPid(Path file) {
    try {
      String text = Files.readString(file).trim();
      return text.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(text));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  private Path log(String name) {
    return dir.resolve(name + ".log");
  }

  private String output(String name) throws IOException {
    return Files.readString(log(name), StandardCharsets.UTF_8);
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
