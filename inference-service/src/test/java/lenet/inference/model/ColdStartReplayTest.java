package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.config.InferenceConfig.Policy;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import org.junit.jupiter.api.Test;

/**
 * A cold replica under the ungated policies ({@code latest}, {@code best}) against a checkpoint
 * topic that already holds a history: it finds the model from Kafka alone, loads only the one its
 * policy selects (one load, not one per checkpoint), and then applies the policy to new ones. Runs
 * extra replicas (manager + follower) inside the test, on a topic of their own.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class ColdStartReplayTest {

  @Test
  void aColdReplicaLoadsOnlyThePolicysChoiceFromTheReplayedHistory() throws Exception {
    Topics topics = Replicas.ownTopics("replay");
    String topic = topics.name(Topic.MODEL_CHECKPOINTS);
    double[] devAccuracy = {0.90, 0.95, 0.97, 0.93, 0.97, 0.96, 0.91, 0.92};
    long[] versions = new long[devAccuracy.length];
    for (int i = 0; i < devAccuracy.length; i++) {
      versions[i] = TestModels.nextVersion();
      TestModels.publishCheckpoint(topic, TestModels.checkpoint(versions[i], devAccuracy[i]));
      if (i == 3) {
        TestModels.publishCheckpoint(topic, "corrupt".getBytes());
      }
    }

    try (ModelManager latest = Replicas.manager(Policy.LATEST, topics, "latest");
        ModelManager best = Replicas.manager(Policy.BEST, topics, "best");
        ModelStateFollower latestFollower =
            new ModelStateFollower(KafkaConnection.to(SharedKafka.bootstrapServers()), latest);
        ModelStateFollower bestFollower =
            new ModelStateFollower(KafkaConnection.to(SharedKafka.bootstrapServers()), best)) {
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
      TestModels.publishCheckpoint(topic, TestModels.checkpoint(worse, 0.94));
      TestModels.awaitServing(latest, worse);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> best.view().versions().stream().anyMatch(v -> v.version() == worse));
      best.converge().get(30, TimeUnit.SECONDS);
      assertThat(best.serving().map(Checkpoint.Header::modelVersion)).contains(versions[4]);

      long better = TestModels.nextVersion();
      TestModels.publishCheckpoint(topic, TestModels.checkpoint(better, 0.99));
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
}
