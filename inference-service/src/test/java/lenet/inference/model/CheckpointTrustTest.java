package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.CheckpointTrust;
import lenet.contract.wire.SigningKeys;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.config.InferenceConfigs;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import org.junit.jupiter.api.Test;

/**
 * Only checkpoints signed by a trusted trainer key, with a plausible version, may serve: an
 * unsigned one, one signed by another key, one altered after signing and one with a version far
 * ahead are rejected with their reason on every replica (the service's own and two more), and the
 * model that serves goes on.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class CheckpointTrustTest {

  private static final KeyPair STRANGER = SigningKeys.generate();

  @Inject ModelManager service;

  @Test
  void theServiceRefusesUnsignedAndStrangersCheckpoints() {
    long serving = TestModels.ensureServing(service);
    String topic = Topic.MODEL_CHECKPOINTS.defaultName();
    long unsigned = TestModels.nextVersion();
    long foreign = TestModels.nextVersion();
    // Both would serve at once if accepted: the best dev accuracy yet, and newer than any.
    TestModels.publishCheckpoint(topic, TestModels.checkpoint(unsigned, 0.999), null);
    TestModels.publishCheckpoint(topic, TestModels.checkpoint(foreign, 0.999), STRANGER);

    await("both rejected")
        .atMost(Duration.ofSeconds(30))
        .until(() -> rejections(service).size() >= 2);
    assertThat(rejections(service))
        .extracting(ModelView.Rejection::reason)
        .containsOnly("BAD_SIGNATURE");
    assertThat(rejections(service))
        .extracting(ModelView.Rejection::message)
        .anyMatch(m -> m.contains("is not signed"))
        .anyMatch(
            m -> m.contains(SigningKeys.id(STRANGER.getPublic())) && m.contains("does not trust"));
    assertThat(service.view().versions())
        .extracting(ModelView.Version::version)
        .doesNotContain(unsigned, foreign);
    assertThat(service.serving().orElseThrow().modelVersion()).isEqualTo(serving);
  }

  @Test
  void everyReplicaRejectsAlteredAndFarAheadCheckpointsAndKeepsServing() throws Exception {
    Topics topics = Replicas.ownTopics("trust");
    String topic = topics.name(Topic.MODEL_CHECKPOINTS);
    // The service's own rule: a version at most 1000 above what is known and its offset.
    CheckpointTrust trust =
        new CheckpointTrust(List.of(TestModels.SIGNING.getPublic()), List.of(), 1000);
    try (ModelManager a = replica(topics, "A", trust);
        ModelManager b = replica(topics, "B", trust);
        ModelStateFollower fa =
            new ModelStateFollower(KafkaConnection.to(SharedKafka.bootstrapServers()), a);
        ModelStateFollower fb =
            new ModelStateFollower(KafkaConnection.to(SharedKafka.bootstrapServers()), b)) {
      fa.start().replayed().get(60, TimeUnit.SECONDS);
      fb.start().replayed().get(60, TimeUnit.SECONDS);
      TestModels.publishCheckpoint(topic, TestModels.checkpoint(1, 0.95)); // offset 0, as a trainer
      TestModels.awaitServing(a, 1);
      TestModels.awaitServing(b, 1);

      // Signed, then one byte of its metrics changed (dev accuracy 0.95 -> 0.99 in the header).
      byte[] value = TestModels.checkpoint(2, 0.95).encode();
      byte[] altered =
          new String(value, java.nio.charset.StandardCharsets.ISO_8859_1)
              .replace("\"devAccuracy\":0.95", "\"devAccuracy\":0.99")
              .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
      assertThat(altered).isNotEqualTo(value);
      TestModels.publish(
          topic,
          Checkpoint.key("lenet5", 2),
          altered,
          CheckpointSignature.sign(value, TestModels.SIGNING));
      // Validly signed, but "latest" for good: far above every version and offset.
      TestModels.publishCheckpoint(topic, TestModels.checkpoint(1_000_000, 0.95));
      // Unsigned, and signed by a stranger.
      TestModels.publishCheckpoint(topic, TestModels.checkpoint(3, 0.99), null);
      TestModels.publishCheckpoint(topic, TestModels.checkpoint(4, 0.99), STRANGER);

      for (ModelManager m : List.of(a, b)) {
        await("all four rejected by " + m.replicaId())
            .atMost(Duration.ofSeconds(30))
            .until(() -> rejections(m).size() >= 4);
        assertThat(rejections(m))
            .extracting(ModelView.Rejection::reason)
            .containsExactlyInAnyOrder(
                "BAD_SIGNATURE", "VERSION_TOO_FAR", "BAD_SIGNATURE", "BAD_SIGNATURE");
        assertThat(rejections(m))
            .extracting(ModelView.Rejection::message)
            .anyMatch(x -> x.contains("does not match its bytes"))
            .anyMatch(x -> x.contains("v1000000 is more than 1000 above"))
            .anyMatch(x -> x.contains("is not signed"))
            .anyMatch(x -> x.contains("does not trust"));
        assertThat(m.serving().orElseThrow().modelVersion()).isEqualTo(1);
      }
    }
  }

  private static List<ModelView.Rejection> rejections(ModelManager m) {
    return m.view().rejected().stream()
        .filter(r -> r.reason().equals("BAD_SIGNATURE") || r.reason().equals("VERSION_TOO_FAR"))
        .toList();
  }

  private static ModelManager replica(Topics topics, String name, CheckpointTrust trust) {
    return TestModels.manager(
        InferenceConfigs.replica(name, "inference.policy", "latest"), topics, trust);
  }
}
