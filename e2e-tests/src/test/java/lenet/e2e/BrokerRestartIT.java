package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import lenet.contract.topics.Topic;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.KafkaNodes;
import lenet.support.kafka.KafkaConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * kill -9 of the broker (its own process, data on disk) during a training run, then a restart: the
 * run completes once, and never starts again after its COMPLETED (the command, not yet committed
 * when the broker died, is judged by the run's events when it comes back).
 */
class BrokerRestartIT {

  static Services services;
  static int port;
  static Path dataDir;
  static int trainerPort;
  private static final java.util.regex.Pattern TRAINED =
      java.util.regex.Pattern.compile("\"trainedEpoch\"\\s*:\\s*(\\d+)");

  @BeforeAll
  static void startServices() throws Exception {
    port = KafkaNodes.onFreePorts(1).port(1);
    dataDir = Files.createTempDirectory(Path.of("target"), "broker-restart-");
    services = new Services("127.0.0.1:" + port);
    services.startBroker("restart-broker", port, dataDir);
    Services.TOPICS.ensureAll(KafkaConnection.to(services.bootstrap));
    trainerPort = Services.freePort();
    services.startIngestAndTrainer("broker-", Services.freePort(), trainerPort);
  }

  @AfterAll
  static void stopServices() throws InterruptedException {
    services.close();
  }

  @Test
  void aRunThroughABrokerKillCompletesOnce() throws Exception {
    runThroughAnOutage(Duration.ofSeconds(3), 8);
  }

  /**
   * Longer than the producers' default delivery timeout (2 min): a fault run, not part of {@code
   * verify} ({@code ./mvnw -B verify -pl e2e-tests -am -Dfaults=long -Dit.test=BrokerRestartIT}).
   */
  @Test
  @EnabledIfSystemProperty(named = "faults", matches = "long")
  void aRunThroughAThreeMinuteOutageCompletesOnceWithEveryEpochInOrder() throws Exception {
    runThroughAnOutage(Duration.ofMinutes(3), 8);
  }

  private void runThroughAnOutage(Duration outage, int epochs) throws Exception {
    String runId = "through-outage-" + Long.toString(System.nanoTime(), 36);
    services.send(
        Topic.TRAINING_COMMANDS,
        runId,
        "{\"runId\": \"" + runId + "\", \"epochs\": " + epochs + "}");
    await("the run's first epoch")
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> types(runId).contains(TrainingEvent.Type.EPOCH));
    int published = (int) types(runId).stream().filter(t -> t == TrainingEvent.Type.EPOCH).count();
    services.kill("restart-broker");
    long t0 = System.nanoTime();
    int trainedInOutage = published;
    while (System.nanoTime() - t0 < outage.toNanos()) {
      trainedInOutage = Math.max(trainedInOutage, trainedEpoch(runId));
      Thread.sleep(500);
    }
    services.startBroker("restart-broker", port, dataDir);
    await("the run completes")
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> services.completed(runId) != null);
    double total = (System.nanoTime() - t0) / 1e9;
    // Long enough for a command delivered again (rebalance after the outage) to be judged.
    Thread.sleep(15_000);
    List<TrainingEvent.Type> types = types(runId);
    List<TrainingEvent.Type> expected = new ArrayList<>();
    expected.add(TrainingEvent.Type.QUEUED);
    expected.add(TrainingEvent.Type.STARTED);
    for (int i = 0; i < epochs; i++) {
      expected.add(TrainingEvent.Type.EPOCH);
    }
    expected.add(TrainingEvent.Type.COMPLETED);
    assertThat(types).as("the run's events, once each, in order").isEqualTo(expected);
    List<Integer> epochNumbers =
        services.readAll(Services.TOPICS.name(Topic.TRAINING_EVENTS)).stream()
            .filter(r -> runId.equals(r.key()))
            .map(r -> TrainingEvent.decode(r.value()))
            .filter(TrainingEvent.Epoch.class::isInstance)
            .map(e -> ((TrainingEvent.Epoch) e).epoch())
            .toList();
    assertThat(epochNumbers).isSorted().doesNotHaveDuplicates().hasSize(epochs);
    if (outage.compareTo(Duration.ofMinutes(1)) >= 0) {
      assertThat(trainedInOutage)
          .as("the run trains on while the broker is away (epochs wait to be published)")
          .isGreaterThan(published);
    }
    System.out.printf(
        "A run through a %d s broker outage: %s; %d epochs published at the kill, %d trained by the"
            + " end of the outage; completed %.0f s after the kill%n",
        outage.toSeconds(), types, published, trainedInOutage, total);
  }

  /** The newest epoch the trainer has trained of the run, published or not (0 when unknown). */
  private static int trainedEpoch(String runId) {
    try {
      java.util.regex.Matcher m =
          TRAINED.matcher(Services.get(trainerPort, "/api/runs/" + runId).body());
      return m.find() ? Integer.parseInt(m.group(1)) : 0;
    } catch (Exception e) {
      return 0;
    }
  }

  private static List<TrainingEvent.Type> types(String runId) {
    return services.readAll(Services.TOPICS.name(Topic.TRAINING_EVENTS)).stream()
        .filter(r -> runId.equals(r.key()))
        .map(r -> TrainingEvent.decode(r.value()).type())
        .toList();
  }
}
