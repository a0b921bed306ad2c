package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import lenet.contract.topics.Topic;
import lenet.contract.wire.TrainingEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the broker (its own process, data on disk) during a training run, then a restart: the
 * run completes once, and never starts again after its COMPLETED (the command, not yet committed
 * when the broker died, is judged by the run's events when it comes back).
 */
class BrokerRestartIT {

  static Services services;
  static int port;
  static int controllerPort;
  static Path dataDir;

  @BeforeAll
  static void startServices() throws Exception {
    port = Services.freePort();
    controllerPort = Services.freePort();
    dataDir = Files.createTempDirectory(Path.of("target"), "broker-restart-");
    services = new Services("127.0.0.1:" + port);
    services.startBroker("restart-broker", port, controllerPort, dataDir);
    Services.TOPICS.ensureAll(services.bootstrap);
    services.startIngestAndTrainer("broker-", Services.freePort(), Services.freePort());
  }

  @AfterAll
  static void stopServices() throws InterruptedException {
    services.close();
  }

  @Test
  void aRunThroughABrokerKillCompletesOnce() throws Exception {
    String runId = "through-kill-" + Long.toString(System.nanoTime(), 36);
    services.send(Topic.TRAINING_COMMANDS, runId, "{\"runId\": \"" + runId + "\", \"epochs\": 8}");
    await("the run's first epoch")
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> types(runId).contains(TrainingEvent.Type.EPOCH));
    services.kill("restart-broker");
    Thread.sleep(3000);
    services.startBroker("restart-broker", port, controllerPort, dataDir);
    await("the run completes")
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> services.completed(runId) != null);
    // Long enough for a command delivered again (rebalance after the outage) to be judged.
    Thread.sleep(15_000);
    List<TrainingEvent.Type> types = types(runId);
    assertThat(types.stream().filter(t -> t == TrainingEvent.Type.COMPLETED)).hasSize(1);
    assertThat(types.subList(types.indexOf(TrainingEvent.Type.COMPLETED), types.size()))
        .as("nothing after COMPLETED")
        .containsExactly(TrainingEvent.Type.COMPLETED);
    System.out.printf("Events of a run through a broker kill: %s%n", types);
  }

  private static List<TrainingEvent.Type> types(String runId) {
    return services.readAll(Services.TOPICS.name(Topic.TRAINING_EVENTS)).stream()
        .filter(r -> runId.equals(r.key()))
        .map(r -> TrainingEvent.decode(r.value()).type())
        .toList();
  }
}
