package lenet.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.CheckpointTrust;
import lenet.contract.wire.SigningKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trusted key files are read again when a checkpoint names a key not trusted yet. */
class CheckpointTrustFilesTest {

  private static final byte[] VALUE = "a checkpoint".getBytes();

  @Test
  void aKeyFileThatAppearsLaterIsTrustedWithoutARestart(@TempDir Path dir) {
    Path keyFile = dir.resolve("checkpoint-signing.key");
    CheckpointTrust trust =
        new CheckpointTrust(List.of(), List.of(SigningKeys.publicKeyFileOf(keyFile)), 1000);
    assertThat(trust.keyIds()).isEmpty();

    KeyPair trainer = SigningKeys.loadOrCreate(keyFile); // the trainer's first start
    trust.verify(VALUE, CheckpointSignature.sign(VALUE, trainer));
    assertThat(trust.keyIds()).containsExactly(SigningKeys.id(trainer.getPublic()));

    KeyPair stranger = SigningKeys.generate();
    assertThatThrownBy(() -> trust.verify(VALUE, CheckpointSignature.sign(VALUE, stranger)))
        .hasMessageContaining("does not trust");
  }

  @Test
  void versionsFarAheadOfTheTopicAndTheNewestKnownAreImplausible() {
    CheckpointTrust trust = new CheckpointTrust(List.of(), List.of(), 1000);
    assertThat(trust.plausible(42, 0, 41)).as("a trainer's: its claim's offset plus one").isTrue();
    assertThat(trust.plausible(1042, 41, 41)).isTrue();
    assertThat(trust.plausible(1043, 41, 41)).isFalse();
    assertThat(trust.plausible(Long.MAX_VALUE, 5000, 6000)).isFalse();
  }
}
