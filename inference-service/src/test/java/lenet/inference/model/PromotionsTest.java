package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.config.InferenceConfigs;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import org.junit.jupiter.api.Test;

/**
 * What {@link Promotions} carries out around a verdict, with real models on the shared broker.
 * Shadow scoring: a candidate that passed its gate scores live traffic beside the champion without
 * answering it; only after enough images, and with enough agreement, is it promoted, and its shadow
 * figures travel with the verdict. Retention: after a promotion, old candidates are deleted from
 * the checkpoint topic (tombstones), never the champion or a pinned version; a replica that starts
 * afterwards lists exactly what was kept.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class PromotionsTest {

  @Test
  void aCandidateShadowsTheChampionBeforeItsVerdict() throws Exception {
    Topics topics = Replicas.ownTopics("shadow");
    // Every scored batch is shadowed; 64 images decide; 99% agreement needed.
    try (ModelManager m =
            TestModels.manager(
                InferenceConfigs.replica(
                    "shadowing",
                    "inference.shadow.fraction",
                    "1.0",
                    "inference.shadow.min-images",
                    "64",
                    "inference.shadow.min-agreement",
                    "0.99"),
                topics,
                TestModels.TRUST);
        ModelStateFollower f =
            new ModelStateFollower(KafkaConnection.to(SharedKafka.bootstrapServers()), m)) {
      f.start();
      String checkpoints = topics.name(lenet.contract.topics.Topic.MODEL_CHECKPOINTS);
      long first = TestModels.nextVersion();
      TestModels.publishCheckpoint(checkpoints, TestModels.checkpoint(first, 0.9));
      // No champion yet: nothing serves, so there is no traffic to shadow; the gate decides.
      long second = TestModels.nextVersion();
      await("v" + first + " promoted on its gate alone")
          .atMost(Duration.ofSeconds(60))
          .until(() -> m.champion().filter(v -> v == first).isPresent());
      TestModels.awaitServing(m, first);
      assertThat(Replicas.version(m, first).shadow()).isNull();

      // The next candidate shadows the champion on live traffic, then is promoted.
      TestModels.publishCheckpoint(checkpoints, TestModels.checkpoint(second, 0.9));
      await("v" + second + " shadows")
          .atMost(Duration.ofSeconds(60))
          .until(() -> Replicas.status(m, second) == ModelView.Status.SHADOW);
      assertThat(m.serving().map(Checkpoint.Header::modelVersion)).contains(first);
      score(m, 32);
      assertThat(Replicas.status(m, second))
          .as("32 images are not enough")
          .isEqualTo(ModelView.Status.SHADOW);
      assertThat(Replicas.version(m, second).shadow().images()).isGreaterThan(0);
      score(m, 128);
      await("v" + second + " promoted")
          .atMost(Duration.ofSeconds(60))
          .until(() -> m.champion().filter(v -> v == second).isPresent());
      TestModels.awaitServing(m, second);
      ModelView.Version promoted = Replicas.version(m, second);
      assertThat(promoted.shadow().images()).isGreaterThanOrEqualTo(64);
      assertThat(promoted.shadow().agreement())
          .as("the same network agrees with itself")
          .isEqualTo(1.0);
      assertThat(promoted.shadow().meanMillis()).isPositive();
      assertThat(promoted.verdict()).contains("shadowed").contains("agreement 1.0000");
    }
  }

  /** Scores {@code images} test digits on the serving model, 16 at a time, as the Scorer does. */
  private static void score(ModelManager m, int images) throws InterruptedException {
    for (int start = 0; start < images; start += 16) {
      float[][] rows = new float[16][];
      for (int i = 0; i < 16; i++) {
        int[] p = TestModels.pixels(start + i);
        rows[i] = new float[p.length];
        for (int k = 0; k < p.length; k++) {
          rows[i][k] = p[k] / 255f;
        }
      }
      try (ModelLease lease = m.lease()) {
        m.shadow(rows, lease.predict(rows));
      }
      Thread.sleep(20); // the shadow queue is short: a burst would skip samples, by design
    }
  }

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
