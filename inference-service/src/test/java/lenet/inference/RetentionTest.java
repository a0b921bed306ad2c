package lenet.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.inference.config.InferenceConfigs;
import lenet.inference.model.ModelManager;
import lenet.inference.model.ModelStateFollower;
import lenet.inference.model.ModelView;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import org.junit.jupiter.api.Test;

/**
 * Retention deletes old candidates from the checkpoint topic (tombstones), never the champion or a
 * pinned version; a replica that starts afterwards lists exactly what was kept.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class RetentionTest {

  @Test
  void oldCandidatesGoTheChampionAndThePinStay() throws Exception {
    Topics topics = Replicas.ownTopics("retention");
    String checkpoints = topics.name(Topic.MODEL_CHECKPOINTS);
    long[] v = new long[5];
    try (ModelManager m = manager(topics, "retaining");
        ModelStateFollower f =
            new ModelStateFollower(KafkaConnection.to(SharedKafka.bootstrapServers()), m)) {
      f.start();
      for (int i = 0; i < v.length; i++) {
        long version = TestModels.nextVersion();
        v[i] = version;
        TestModels.publishCheckpoint(checkpoints, TestModels.checkpoint(version, 0.9));
        await("v" + version + " promoted")
            .atMost(Duration.ofSeconds(60))
            .until(() -> m.champion().filter(c -> c == version).isPresent());
        if (i == 0) {
          m.activate(version, Duration.ofSeconds(30)); // the pin must survive retention
        }
      }
      // Keep the newest 2 (v[3], v[4]; v[4] is also the champion and the last promoted one) and
      // the pin v[0]: v[1] and v[2] go.
      await("retention deletes v" + v[1] + " and v" + v[2])
          .atMost(Duration.ofSeconds(30))
          .until(() -> listed(m).length == 3);
      assertThat(listed(m)).containsExactly(v[4], v[3], v[0]);
      assertThat(m.serving().orElseThrow().modelVersion()).isEqualTo(v[0]);
    }
    try (ModelManager late = manager(topics, "late");
        ModelStateFollower f =
            new ModelStateFollower(KafkaConnection.to(SharedKafka.bootstrapServers()), late)) {
      f.start();
      TestModels.awaitServing(late, v[0]);
      assertThat(listed(late)).containsExactly(v[4], v[3], v[0]);
      assertThat(late.champion()).contains(v[4]);
      assertThat(late.view().mode()).isEqualTo(ModelView.Mode.PINNED);
    }
  }

  private static long[] listed(ModelManager m) {
    return m.view().versions().stream().mapToLong(ModelView.Version::version).toArray();
  }

  private static ModelManager manager(Topics topics, String name) {
    return TestModels.manager(
        InferenceConfigs.replica(
            name,
            "inference.retention.keep-versions",
            "2",
            "inference.retention.keep-promoted",
            "1"),
        topics,
        TestModels.TRUST);
  }
}
