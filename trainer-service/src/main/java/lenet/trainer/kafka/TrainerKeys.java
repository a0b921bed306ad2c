package lenet.trainer.kafka;

import jakarta.enterprise.context.ApplicationScoped;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import lenet.contract.wire.CheckpointTrust;
import lenet.contract.wire.SigningKeys;
import lenet.trainer.TrainerConfig;
import org.jboss.logging.Logger;

/**
 * The trainer's Ed25519 key pair ({@code trainer.signing-key-file}), loaded (or created) once: it
 * signs every checkpoint and the REJECT of a cancelled run's versions, and it is what the trainer
 * trusts when it resumes a run from a checkpoint on Kafka, so that it never goes on from (and
 * signs) parameters it did not produce. Keys of earlier trainers ({@code trainer.trusted-keys},
 * during a key rotation) are trusted too.
 */
@ApplicationScoped
public class TrainerKeys {

  private static final Logger LOG = Logger.getLogger(TrainerKeys.class);

  private final KeyPair pair;
  private final CheckpointTrust trust;

  TrainerKeys(TrainerConfig config) {
    this.pair = SigningKeys.loadOrCreate(config.signingKeyFile());
    List<java.security.PublicKey> trusted = new ArrayList<>();
    trusted.add(pair.getPublic());
    config.trustedKeys().orElse(List.of()).stream()
        .map(String::trim)
        .filter(k -> !k.isEmpty())
        .map(SigningKeys::publicKey)
        .forEach(trusted::add);
    // Resuming reads one stored version by its key: no version plausibility check applies.
    this.trust = new CheckpointTrust(trusted, List.of(), Long.MAX_VALUE);
    LOG.infof(
        "Checkpoints are signed with key %s (%s); inference trusts it with"
            + " inference.signing.trusted-keys=%s. Runs resume only from checkpoints signed by %s",
        SigningKeys.id(pair.getPublic()),
        config.signingKeyFile().toAbsolutePath(),
        SigningKeys.encode(pair.getPublic()),
        trust.keyIds());
  }

  /** The pair every record the trainer writes is signed with. */
  public KeyPair pair() {
    return pair;
  }

  /** The keys a checkpoint must be signed by for a run to resume from it. */
  public CheckpointTrust trust() {
    return trust;
  }
}
