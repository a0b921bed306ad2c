package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import lenet.contract.topics.Topic;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two trainer processes in one group, ten commands, and the working one killed (kill -9) half-way:
 * the other takes the commands over; every run completes exactly once and no model version is used
 * twice.
 */
class TwoTrainersIT {

  static Services services;

  @BeforeAll
  static void startServices() throws Exception {
    String bootstrap = SharedKafka.bootstrapServers();
    Services.TOPICS.ensureAll(KafkaConnection.to(bootstrap));
    services = new Services(bootstrap);
    services.startIngestAndTrainer("two-", Services.freePort(), Services.freePort());
    services.startTrainer("two-trainer-b", Services.freePort());
  }

  @AfterAll
  static void stopServices() throws InterruptedException {
    services.close();
  }

  @Test
  void tenCommandsRunOnceEachWithDistinctVersionsThroughAKill() throws Exception {
    String tag = Long.toString(System.nanoTime(), 36);
    List<String> runIds = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      String runId = "two-" + tag + "-" + i;
      runIds.add(runId);
      services.send(
          Topic.TRAINING_COMMANDS, runId, "{\"runId\": \"" + runId + "\", \"epochs\": 1}");
    }
    await("four runs done")
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> completedCount(runIds) >= 4);
    String working =
        Files.readString(Services.LOGS.resolve("two-trainer.log")).contains(tag)
            ? "two-trainer"
            : "two-trainer-b";
    services.kill(working);
    await("all ten runs done")
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> completedCount(runIds) == 10);

    List<TrainingEvent> events = events(runIds);
    for (String runId : runIds) {
      assertThat(
              events.stream()
                  .filter(e -> runId.equals(e.runId()) && e.type() == TrainingEvent.Type.COMPLETED))
          .as("COMPLETED events of " + runId)
          .hasSize(1);
    }
    Set<Long> versions = new HashSet<>();
    List<Long> all = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r :
        services.readAll(Services.TOPICS.name(Topic.MODEL_CHECKPOINTS))) {
      if (Checkpoint.versionOfKey(r.key()) >= 0 && r.value() != null) {
        long v = Checkpoint.decode(r.value()).header().modelVersion();
        all.add(v);
        versions.add(v);
      }
    }
    assertThat(all).as("checkpoint versions on the topic").hasSize(versions.size());
    System.out.printf(
        "Two trainers, %s killed: %d checkpoints of ten runs, all versions distinct%n",
        working, events.stream().filter(e -> e.type() == TrainingEvent.Type.EPOCH).count());
  }

  private static long completedCount(List<String> runIds) {
    return events(runIds).stream()
        .filter(e -> e.type() == TrainingEvent.Type.COMPLETED)
        .map(TrainingEvent::runId)
        .distinct()
        .count();
  }

  private static List<TrainingEvent> events(List<String> runIds) {
    return services.readAll(Services.TOPICS.name(Topic.TRAINING_EVENTS)).stream()
        .filter(r -> runIds.contains(r.key()))
        .map(r -> TrainingEvent.decode(r.value()))
        .toList();
  }
}
