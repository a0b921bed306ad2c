package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.List;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.SigningKeys;
import lenet.model.LeNet5;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** Which control records a replica acts on: only what the fleet's control keys signed. */
class ControlTrustTest {

  private static final KeyPair FLEET = SigningKeys.generate();
  private static final KeyPair OLD_FLEET = SigningKeys.generate();
  private static final KeyPair TRAINER = SigningKeys.generate();
  private static final KeyPair STRANGER = SigningKeys.generate();

  private final ControlTrust trust = new ControlTrust(FLEET, List.of(OLD_FLEET.getPublic()));

  private final ModelControl promote =
      ModelControl.verdict(true, LeNet5.MODEL_NAME, 7, null, null, "A", "better");

  @Test
  void recordsSignedByAFleetKeySpeakForTheFleet() {
    byte[] v = promote.encode();
    assertThatCode(() -> trust.verify(promote.key(), promote, v, trust.sign(v)))
        .doesNotThrowAnyException();
    assertThatCode(
            () -> trust.verify(promote.key(), promote, v, CheckpointSignature.sign(v, OLD_FLEET)))
        .as("a rotated-out key that is still trusted")
        .doesNotThrowAnyException();
  }

  @Test
  void unsignedForeignAndAlteredRecordsAreRefused() {
    byte[] v = promote.encode();
    assertRefused(promote.key(), promote, v, new RecordHeaders(), "BAD_SIGNATURE", "not signed");
    assertRefused(
        promote.key(),
        promote,
        v,
        CheckpointSignature.sign(v, STRANGER),
        "BAD_SIGNATURE",
        SigningKeys.id(STRANGER.getPublic()));
    ModelControl other =
        ModelControl.verdict(true, LeNet5.MODEL_NAME, 8, null, null, "A", "better");
    assertRefused(
        other.key(), other, other.encode(), trust.sign(v), "BAD_SIGNATURE", "does not match");
  }

  @Test
  void aSignedRecordUnderAnotherKeyIsRefused() {
    byte[] v = promote.encode();
    assertRefused("lenet5/v7/promote-2", promote, v, trust.sign(v), "KEY_MISMATCH", "instead of");
  }

  @Test
  void aTrainersKeyMayWriteNothingHere() {
    ModelControl reject = ModelControl.verdict(false, LeNet5.MODEL_NAME, 7, null, null, "t", "x");
    for (ModelControl record : List.of(reject, ModelControl.pin(LeNet5.MODEL_NAME, 7, "t", "x"))) {
      byte[] v = record.encode();
      assertRefused(
          record.key(),
          record,
          v,
          CheckpointSignature.sign(v, TRAINER),
          "BAD_SIGNATURE",
          SigningKeys.id(TRAINER.getPublic()));
    }
  }

  @Test
  void tombstonesCountOnlySignedByTheFleet() {
    String key = promote.key();
    assertThatCode(() -> trust.verify(key, null, null, trust.signTombstone(key)))
        .doesNotThrowAnyException();
    assertRefused(key, null, null, new RecordHeaders(), "BAD_SIGNATURE", "tombstone");
    assertRefused(
        "lenet5/pin", null, null, trust.signTombstone(key), "BAD_SIGNATURE", "does not match");
    byte[] bytes = ("tombstone " + key).getBytes(StandardCharsets.UTF_8);
    assertRefused(
        key, null, null, CheckpointSignature.sign(bytes, TRAINER), "BAD_SIGNATURE", "tombstone");
  }

  private void assertRefused(
      String key,
      ModelControl record,
      byte[] value,
      org.apache.kafka.common.header.Headers headers,
      String reason,
      String message) {
    assertThatThrownBy(() -> trust.verify(key, record, value, headers))
        .isInstanceOfSatisfying(
            ControlTrust.Refused.class, e -> assertThat(e.reason.name()).isEqualTo(reason))
        .hasMessageContaining(message);
  }
}
