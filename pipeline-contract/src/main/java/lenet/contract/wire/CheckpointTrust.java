package lenet.contract.wire;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Headers;
import org.jboss.logging.Logger;

/**
 * Which checkpoints may be used at all, by inference (to serve) and by the trainer (to resume a run
 * from): those signed by a trusted trainer key, with a version not far above what is known (see
 * {@code inference.signing.*}). Keys come from configuration and from key files, which are read
 * again when a checkpoint names a key not trusted yet (a trainer that created or rotated its key on
 * a shared volume).
 */
public final class CheckpointTrust {

  private static final Logger LOG = Logger.getLogger(CheckpointTrust.class);

  private final List<PublicKey> configured;
  private final List<Path> keyFiles;
  private final long maxVersionJump;
  private volatile CheckpointSignature.Verifier verifier;

  /**
   * @param configured trusted keys given as values
   * @param keyFiles files that hold trusted keys (PEM), read now and on an unknown key
   * @param maxVersionJump how far above both the newest known version and the record's own offset a
   *     version may be
   */
  public CheckpointTrust(List<PublicKey> configured, List<Path> keyFiles, long maxVersionJump) {
    this.configured = List.copyOf(configured);
    this.keyFiles = List.copyOf(keyFiles);
    this.maxVersionJump = maxVersionJump;
    this.verifier = readKeys();
  }

  /** Trust in the keys given as configuration text (base64 X.509 or PEM each) and key files. */
  public static CheckpointTrust of(
      List<String> trustedKeys, List<Path> trustedKeyFiles, long maxVersionJump) {
    return new CheckpointTrust(
        trustedKeys.stream()
            .map(String::trim)
            .filter(k -> !k.isEmpty())
            .map(SigningKeys::publicKey)
            .toList(),
        trustedKeyFiles,
        maxVersionJump);
  }

  /** The ids of the keys trusted now. */
  public List<String> keyIds() {
    return verifier.keyIds();
  }

  public long maxVersionJump() {
    return maxVersionJump;
  }

  /**
   * Accepts {@code value} only with a valid signature of a trusted key in {@code headers}; an
   * unknown key makes the key files be read again first.
   *
   * @throws WireFormatException {@code BAD_SIGNATURE} with what is wrong
   */
  public void verify(byte[] value, Headers headers) {
    verify("checkpoint", value, headers);
  }

  /** As {@link #verify(byte[], Headers)} for another record signed by a trainer key. */
  public void verify(String what, byte[] value, Headers headers) {
    if (!keyFiles.isEmpty()
        && CheckpointSignature.keyIdOf(headers).filter(id -> !verifier.trusts(id)).isPresent()) {
      verifier = readKeys();
    }
    verifier.verify(what, value, headers);
  }

  /**
   * Whether {@code version}, read at {@code offset} of the checkpoint topic, is within reach: at
   * most {@link #maxVersionJump} above the larger of the newest known version and {@code offset +
   * 1} (a trainer's version is its claim's offset plus one, so it never passes its own offset).
   */
  public boolean plausible(long version, long newestKnown, long offset) {
    return version - Math.max(newestKnown, offset + 1) <= maxVersionJump;
  }

  private CheckpointSignature.Verifier readKeys() {
    List<PublicKey> keys = new ArrayList<>(configured);
    for (Path file : keyFiles) {
      if (!Files.exists(file)) {
        LOG.debugf("Trusted key file %s does not exist (yet)", file);
        continue;
      }
      try {
        keys.add(SigningKeys.publicKey(Files.readString(file)));
      } catch (IOException | IllegalArgumentException e) {
        LOG.warnf("Cannot read the trusted key file %s: %s", file, e.getMessage());
      }
    }
    return new CheckpointSignature.Verifier(keys);
  }
}
