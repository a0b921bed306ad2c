package lenet.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.djl.Device;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import lenet.contract.wire.Checkpoint;
import lenet.inference.config.InferenceConfig.Policy;
import lenet.inference.model.CheckpointFollower;
import lenet.inference.model.ModelManager;
import lenet.kafka.SharedKafka;
import lenet.kafka.SharedKafkaResource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

/**
 * A cold replica against a checkpoint topic that already holds a history: it finds the model from
 * Kafka alone, loads only the one its policy selects (one load, not one per checkpoint), and then
 * applies the policy to new ones. Runs extra replicas (manager + follower) inside the test, on a
 * topic of their own.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class ColdStartReplayTest {

  @Test
  void aColdReplicaLoadsOnlyThePolicysChoiceFromTheReplayedHistory() throws Exception {
    String topic = "replay-" + UUID.randomUUID();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()))) {
      admin
          .createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty())))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    double[] devAccuracy = {0.90, 0.95, 0.97, 0.93, 0.97, 0.96, 0.91, 0.92};
    long[] versions = new long[devAccuracy.length];
    for (int i = 0; i < devAccuracy.length; i++) {
      versions[i] = TestModels.nextVersion();
      TestModels.publishCheckpoint(
          topic, TestModels.checkpoint(versions[i], devAccuracy[i]).encode());
      if (i == 3) {
        TestModels.publishCheckpoint(topic, "corrupt".getBytes());
      }
    }

    try (ModelManager latest = manager(Policy.LATEST, topic);
        ModelManager best = manager(Policy.BEST, topic);
        CheckpointFollower latestFollower =
            new CheckpointFollower(SharedKafka.bootstrapServers(), topic, latest);
        CheckpointFollower bestFollower =
            new CheckpointFollower(SharedKafka.bootstrapServers(), topic, best)) {
      latestFollower.start().replayed().get(60, TimeUnit.SECONDS);
      bestFollower.start().replayed().get(60, TimeUnit.SECONDS);
      TestModels.awaitServing(latest, versions[7]);
      TestModels.awaitServing(
          best, versions[4]); // the best dev accuracy; a tie goes to the later checkpoint
      assertThat(latest.loadAttempts()).as("loads for a replay of 8 checkpoints").isEqualTo(1);
      assertThat(best.loadAttempts()).isEqualTo(1);
      assertThat(latest.view().versions()).hasSize(8);
      assertThat(latest.view().rejected()).hasSize(1);

      // Live: a worse checkpoint serves under 'latest' but not under 'best'; a better one serves
      // under both.
      long worse = TestModels.nextVersion();
      TestModels.publishCheckpoint(topic, TestModels.checkpoint(worse, 0.94).encode());
      TestModels.awaitServing(latest, worse);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> best.view().versions().stream().anyMatch(v -> v.version() == worse));
      best.converge().get(30, TimeUnit.SECONDS);
      assertThat(best.serving().map(Checkpoint.Header::modelVersion)).contains(versions[4]);

      long better = TestModels.nextVersion();
      TestModels.publishCheckpoint(topic, TestModels.checkpoint(better, 0.99).encode());
      TestModels.awaitServing(best, better);
      TestModels.awaitServing(latest, better);
      assertThat(best.loadAttempts()).isEqualTo(2);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> latest.liveModels() == 1 && best.liveModels() == 1);
      latestFollower.close();
      bestFollower.close();
      latest.close();
      best.close();
      assertThat(latest.liveModels()).as("models open after close").isZero();
      assertThat(best.liveModels()).isZero();
    }
  }

  private static ModelManager manager(Policy policy, String topic) {
    return new ModelManager(
        new ModelManager.Settings(policy, Device.cpu(), 1, 1, 4, 64, topic),
        new SimpleMeterRegistry());
  }
}
