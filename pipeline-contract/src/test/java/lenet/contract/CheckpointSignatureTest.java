package lenet.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.List;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.SigningKeys;
import lenet.contract.wire.WireFormatException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointSignatureTest {

  private static final byte[] VALUE = "LNCK... a checkpoint's bytes".getBytes();

  @Test
  void aSignatureOfATrustedKeyVerifiesAndNothingElseDoes() {
    KeyPair trainer = SigningKeys.generate();
    KeyPair stranger = SigningKeys.generate();
    var verifier = new CheckpointSignature.Verifier(List.of(trainer.getPublic()));

    verifier.verify(VALUE, CheckpointSignature.sign(VALUE, trainer));

    assertThatThrownBy(() -> verifier.verify(VALUE, new RecordHeaders()))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("is not signed")
        .extracting(e -> ((WireFormatException) e).reason())
        .isEqualTo(WireFormatException.Reason.BAD_SIGNATURE);
    assertThatThrownBy(() -> verifier.verify(VALUE, CheckpointSignature.sign(VALUE, stranger)))
        .hasMessageContaining(SigningKeys.id(stranger.getPublic()))
        .hasMessageContaining("does not trust");
    byte[] altered = VALUE.clone();
    altered[3] ^= 1;
    Headers signed = CheckpointSignature.sign(VALUE, trainer);
    assertThatThrownBy(() -> verifier.verify(altered, signed))
        .hasMessageContaining("does not match its bytes");
    // A stranger's signature relabelled with the trainer's key id is still not the trainer's.
    Headers forged = CheckpointSignature.sign(VALUE, stranger);
    forged.remove(CheckpointSignature.KEY_HEADER);
    forged.add(CheckpointSignature.KEY_HEADER, SigningKeys.id(trainer.getPublic()).getBytes());
    assertThatThrownBy(() -> verifier.verify(VALUE, forged))
        .hasMessageContaining("does not match its bytes");
    assertThatThrownBy(() -> new CheckpointSignature.Verifier(List.of()).verify(VALUE, signed))
        .hasMessageContaining("it trusts none");
  }

  @Test
  void aKeyPairIsCreatedOnceOwnerOnlyAndReadBackAsTheSameKeys(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("keys/checkpoint-signing.key");
    KeyPair created = SigningKeys.loadOrCreate(file);
    assertThat(Files.getPosixFilePermissions(file))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.readString(file)).startsWith("-----BEGIN PRIVATE KEY-----");
    Path pub = SigningKeys.publicKeyFileOf(file);
    assertThat(Files.readString(pub)).startsWith("-----BEGIN PUBLIC KEY-----");

    KeyPair loaded = SigningKeys.loadOrCreate(file);
    assertThat(loaded.getPublic().getEncoded()).isEqualTo(created.getPublic().getEncoded());
    assertThat(loaded.getPrivate().getEncoded()).isEqualTo(created.getPrivate().getEncoded());
    // The public key as configuration: PEM text or its one-line base64 name the same key.
    assertThat(SigningKeys.publicKey(Files.readString(pub)).getEncoded())
        .isEqualTo(SigningKeys.publicKey(SigningKeys.encode(created.getPublic())).getEncoded());
    new CheckpointSignature.Verifier(List.of(SigningKeys.publicKey(Files.readString(pub))))
        .verify(VALUE, CheckpointSignature.sign(VALUE, loaded));

    Files.delete(pub);
    assertThatThrownBy(() -> SigningKeys.loadOrCreate(file))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("must both exist");
  }
}
