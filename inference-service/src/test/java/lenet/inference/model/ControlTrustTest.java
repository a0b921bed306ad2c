package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.List;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.CheckpointTrust;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.SigningKeys;
import lenet.model.LeNet5;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** Which control records a replica acts on, and whom each speaks for. */
class ControlTrustTest {

  private static final KeyPair FLEET = SigningKeys.generate();
  private static final KeyPair OLD_FLEET = SigningKeys.generate();
  private static final KeyPair TRAINER = SigningKeys.generate();
  private static final KeyPair STRANGER = SigningKeys.generate();

  private final ControlTrust trust =
      new ControlTrust(
          FLEET,
          List.of(OLD_FLEET.getPublic()),
          new CheckpointTrust(List.of(TRAINER.getPublic()), List.of(), 1000));

  private final ModelControl promote =
      ModelControl.verdict(true, LeNet5.MODEL_NAME, 7, null, null, "A", "better");

  @Test
  void recordsSignedByAFleetKeySpeakForTheFleet() {
    byte[] v = promote.encode();
    assertThat(trust.verify(promote.key(), promote, v, trust.sign(v)))
        .isEqualTo(ControlTrust.Authority.FLEET);
    assertThat(trust.verify(promote.key(), promote, v, CheckpointSignature.sign(v, OLD_FLEET)))
        .as("a rotated-out key that is still trusted")
        .isEqualTo(ControlTrust.Authority.FLEET);
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
  void aTrainerMayOnlyRejectTheVersionsOfTheRunItNames() {
    ModelControl reject = ModelControl.cancelledRun(LeNet5.MODEL_NAME, 7, "run-1", "t", "cancel");
    byte[] r = reject.encode();
    assertThat(trust.verify(reject.key(), reject, r, CheckpointSignature.sign(r, TRAINER)))
        .isEqualTo(ControlTrust.Authority.TRAINER);
    ModelControl pin = ModelControl.pin(LeNet5.MODEL_NAME, 7, "t", "pin");
    byte[] p = pin.encode();
    assertRefused(
        pin.key(), pin, p, CheckpointSignature.sign(p, TRAINER), "NOT_PERMITTED", "may only");
    byte[] v = promote.encode();
    assertRefused(
        promote.key(),
        promote,
        v,
        CheckpointSignature.sign(v, TRAINER),
        "NOT_PERMITTED",
        "PROMOTE");
  }

  @Test
  void tombstonesCountOnlySignedByTheFleet() {
    String key = promote.key();
    assertThat(trust.verify(key, null, null, trust.signTombstone(key)))
        .isEqualTo(ControlTrust.Authority.FLEET);
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
