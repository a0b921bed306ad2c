package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.SigningKeys;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.model.LeNet5;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A Kafka writer without the fleet's control key cannot decide what serves: forged PROMOTEs (of
 * {@code Long.MAX_VALUE}, which would otherwise be the champion for good and stop every later
 * gate), forged PINs of a rejected version, unsigned or signed by a stranger, a genuine signed
 * verdict copied under another key, and a trainer-signed record beyond the REJECT of its own run
 * change nothing on any replica (present or started later); each is listed with its reason; and the
 * next candidate is still gated and promoted.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class ForgedControlTest {

  private static final KeyPair STRANGER = SigningKeys.generate();

  private Replicas.Fleet fleet;
  private Topics topics;

  @AfterEach
  void closeReplicas() throws Exception {
    if (fleet != null) {
      fleet.close();
    }
  }

  @Test
  void forgedControlRecordsChangeNothingAndTheGateGoesOn() throws Exception {
    topics = Replicas.ownTopics("forged-control");
    fleet = new Replicas.Fleet(topics);
    byte[] trained = TestModels.trainedParameters();
    byte[] untrained = TestModels.untrainedParameters();
    ModelManager a = replica("A");
    ModelManager b = replica("B");
    long firstEpoch = publish(trained, "r1", 1, 2);
    long champion = publish(trained, "r1", 2, 2);
    awaitServing(champion, a, b);
    publish(untrained, "r2", 1, 2);
    long rejected = publish(untrained, "r2", 2, 2);
    await("the gate refuses v" + rejected)
        .atMost(Duration.ofSeconds(60))
        .until(() -> Replicas.status(b, rejected) == ModelView.Status.REJECTED);

    String control = topics.name(Topic.MODEL_CONTROL);
    ModelControl promoteMax =
        ModelControl.verdict(true, LeNet5.MODEL_NAME, Long.MAX_VALUE, null, null, "x", "forged");
    ModelControl pinRejected = ModelControl.pin(LeNet5.MODEL_NAME, rejected, "x", "forged");
    for (ModelControl forged : List.of(promoteMax, pinRejected)) {
      write(control, forged.key(), forged.encode(), new RecordHeaders()); // unsigned
      write(control, forged.key(), forged.encode(), sign(forged, STRANGER));
      // Signed by the trainer's (checkpoint) key: only the fleet writes this topic.
      write(control, forged.key(), forged.encode(), sign(forged, TestModels.SIGNING));
    }
    // A trainer-signed REJECT of the champion.
    ModelControl rejectChampion =
        ModelControl.verdict(false, LeNet5.MODEL_NAME, champion, null, null, "x", "forged");
    write(
        control,
        rejectChampion.key(),
        rejectChampion.encode(),
        sign(rejectChampion, TestModels.SIGNING));
    // The genuine, fleet-signed REJECT of v<rejected> copied under the PROMOTE's key.
    String rejectKey =
        ModelControl.verdictKey(LeNet5.MODEL_NAME, rejected, ModelControl.Type.REJECT);
    ConsumerRecord<byte[], byte[]> genuine =
        TestModels.readUntil(
                control, rejectKey::equals, m -> m.containsKey(rejectKey), Duration.ofSeconds(30))
            .get(rejectKey)
            .get(0);
    write(
        control,
        ModelControl.verdictKey(LeNet5.MODEL_NAME, rejected, ModelControl.Type.PROMOTE),
        genuine.value(),
        genuine.headers());
    // An unsigned tombstone of the champion's PROMOTE.
    write(
        control,
        ModelControl.verdictKey(LeNet5.MODEL_NAME, champion, ModelControl.Type.PROMOTE),
        null,
        new RecordHeaders());

    // An unsigned deletion of a checkpoint (the champion's would demote it on every replica).
    write(
        topics.name(Topic.MODEL_CHECKPOINTS),
        lenet.contract.wire.Checkpoint.key(LeNet5.MODEL_NAME, firstEpoch),
        null,
        new RecordHeaders());

    ModelManager c = replica("C"); // starts after the forgeries: replays them
    for (ModelManager m : List.of(a, b, c)) {
      await(m.replicaId() + " lists the 8 refused records")
          .atMost(Duration.ofSeconds(30))
          .until(() -> m.view().refusedControl().size() >= 8);
      assertThat(m.view().refusedControl())
          .extracting(ModelView.Rejection::reason)
          .containsOnly("BAD_SIGNATURE", "KEY_MISMATCH")
          .contains("BAD_SIGNATURE", "KEY_MISMATCH");
      assertThat(m.view().refusedControl())
          .extracting(ModelView.Rejection::message)
          .anyMatch(x -> x.contains("is not signed"))
          .anyMatch(x -> x.contains(SigningKeys.id(STRANGER.getPublic())))
          .anyMatch(x -> x.contains(SigningKeys.id(TestModels.SIGNING.getPublic())))
          .anyMatch(x -> x.contains("tombstone"));
      await(m.replicaId() + " refuses the unsigned deletion")
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  m.view().rejected().stream()
                      .anyMatch(r -> r.message().contains("tombstone of lenet5/v" + firstEpoch)));
      assertThat(Replicas.status(m, firstEpoch)).as("still listed").isNotNull();
      awaitServing(champion, m);
      assertThat(m.champion()).contains(champion);
      assertThat(m.pinnedVersion()).isEmpty();
      assertThat(m.view().mode()).isEqualTo(ModelView.Mode.FOLLOWING);
      assertThat(Replicas.status(m, rejected)).isEqualTo(ModelView.Status.REJECTED);
      assertThat(Replicas.status(m, champion)).isEqualTo(ModelView.Status.CHAMPION);
    }

    // The gate goes on: a better candidate is gated and promoted on every replica.
    publish(untrained, "r3", 1, 2);
    long next = publish(trained, "r3", 2, 2);
    awaitServing(next, a, b, c);
    for (ModelManager m : List.of(a, b, c)) {
      assertThat(m.champion()).contains(next);
      assertThat(Replicas.version(m, next).gate()).as("gated, not promoted blindly").isNotNull();
    }
  }

  private static Headers sign(ModelControl record, KeyPair key) {
    return CheckpointSignature.sign(record.encode(), key);
  }

  private static void write(String topic, String key, byte[] value, Headers headers) {
    TestModels.publish(topic, key, value, headers);
  }

  private ModelManager replica(String name) {
    return fleet.start(name);
  }

  private long publish(byte[] params, String run, int epoch, int epochs) {
    return fleet.publish(params, run, epoch, epochs);
  }

  private static void awaitServing(long version, ModelManager... replicas) {
    Replicas.awaitServing(version, replicas);
  }
}
