package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import lenet.contract.topics.Topic;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The trainer killed (kill -9) during a run: the command comes back after the restart and the run
 * resumes from its last checkpoint on Kafka; cut three times, it ends FAILED instead of starting a
 * fourth time, and the command queued behind it then runs, once.
 */
class TrainerRestartIT {

  static Services services;
  static int trainerPort;

  @BeforeAll
  static void startServices() throws Exception {
    String bootstrap = SharedKafka.bootstrapServers();
    Services.TOPICS.ensureAll(KafkaConnection.to(bootstrap));
    services = new Services(bootstrap);
    trainerPort = Services.freePort();
    services.startIngestAndTrainer("restart-", Services.freePort(), trainerPort);
  }

  @AfterAll
  static void stopServices() throws InterruptedException {
    services.close();
  }

  @Test
  void aRunCutThreeTimesEndsFailedAndTheQueueMovesOn() throws Exception {
    String tag = Long.toString(System.nanoTime(), 36);
    String cut = "cut-" + tag;
    String next = "next-" + tag;
    services.send(Topic.TRAINING_COMMANDS, cut, "{\"runId\": \"" + cut + "\", \"epochs\": 500}");
    services.send(Topic.TRAINING_COMMANDS, next, "{\"runId\": \"" + next + "\", \"epochs\": 1}");
    for (int kill = 1; kill <= 3; kill++) {
      int starts = kill;
      await("start " + starts + " of " + cut)
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> count(cut, TrainingEvent.Type.STARTED) == starts);
      services.kill("restart-trainer");
      services.startTrainer("restart-trainer", trainerPort);
    }
    await("the queued run completes after the cut one is given up")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> services.completed(next) != null);
    assertThat(count(cut, TrainingEvent.Type.STARTED)).as("no fourth start").isEqualTo(3);
    assertThat(failed(cut)).isTrue();
    assertThat(lastType(cut)).isEqualTo(TrainingEvent.Type.FAILED);
    assertThat(count(next, TrainingEvent.Type.STARTED)).as("the next run ran once").isEqualTo(1);
    assertThat(count(next, TrainingEvent.Type.COMPLETED)).isEqualTo(1);
  }

  @Test
  void aRunKilledAfterSomeEpochsResumesFromItsLastCheckpoint() throws Exception {
    String runId = "resume-" + Long.toString(System.nanoTime(), 36);
    int epochs = 6;
    services.send(
        Topic.TRAINING_COMMANDS,
        runId,
        "{\"runId\": \"" + runId + "\", \"epochs\": " + epochs + "}");
    await("two epochs published")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> count(runId, TrainingEvent.Type.EPOCH) >= 2);
    services.kill("restart-trainer");
    long published = count(runId, TrainingEvent.Type.EPOCH);
    services.startTrainer("restart-trainer", trainerPort);
    await("the run completes after the restart")
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> services.completed(runId) != null);

    List<TrainingEvent.Started> starts =
        events(runId).stream()
            .filter(TrainingEvent.Started.class::isInstance)
            .map(TrainingEvent.Started.class::cast)
            .toList();
    assertThat(starts).hasSize(2);
    assertThat(starts.get(0).resumedFrom()).isNull();
    assertThat(starts.get(1).resumedFrom())
        .as("resumed after the last epoch published before the kill")
        .isEqualTo((int) published);
    List<Integer> epochNumbers =
        events(runId).stream()
            .filter(TrainingEvent.Epoch.class::isInstance)
            .map(e -> ((TrainingEvent.Epoch) e).epoch())
            .toList();
    assertThat(epochNumbers)
        .as("each epoch trained and published once, in order, across the kill")
        .containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(count(runId, TrainingEvent.Type.COMPLETED)).isEqualTo(1);
  }

  private static List<TrainingEvent> events(String runId) {
    return services.readAll(Services.TOPICS.name(Topic.TRAINING_EVENTS)).stream()
        .filter(r -> runId.equals(r.key()))
        .map(r -> TrainingEvent.decode(r.value()))
        .toList();
  }

  private static long count(String runId, TrainingEvent.Type type) {
    return events(runId).stream().filter(e -> e.type() == type).count();
  }

  private static boolean failed(String runId) {
    return count(runId, TrainingEvent.Type.FAILED) > 0;
  }

  private static TrainingEvent.Type lastType(String runId) {
    List<TrainingEvent> all = events(runId);
    return all.get(all.size() - 1).type();
  }
}
