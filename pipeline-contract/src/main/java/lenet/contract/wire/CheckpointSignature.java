package lenet.contract.wire;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import lenet.contract.wire.WireFormatException.Reason;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Proof of a record's origin: the trainer signs the whole value of each checkpoint (header with
 * version and metrics, and parameters) with its Ed25519 key, the inference fleet signs its control
 * records with the fleet's control key, and each sends the signature in record headers; readers act
 * only on records signed by a key they trust. A checkpoint's own SHA-256 proves integrity; this
 * proves who wrote it. Headers (the value's format is unchanged):
 *
 * <pre>
 * lenet-signature     base64 Ed25519 signature of the record value
 * lenet-signing-key   the signing key's id ({@link SigningKeys#id}): which trusted key to check
 * </pre>
 */
public final class CheckpointSignature {

  public static final String SIGNATURE_HEADER = "lenet-signature";
  public static final String KEY_HEADER = "lenet-signing-key";

  private CheckpointSignature() {}

  /** The headers that sign {@code value} with {@code keys}' private key. */
  public static Headers sign(byte[] value, KeyPair keys) {
    try {
      Signature s = Signature.getInstance(SigningKeys.ALGORITHM);
      s.initSign(keys.getPrivate());
      s.update(value);
      return new RecordHeaders(
          new Header[] {
            new RecordHeader(
                SIGNATURE_HEADER,
                Base64.getEncoder().encodeToString(s.sign()).getBytes(StandardCharsets.US_ASCII)),
            new RecordHeader(
                KEY_HEADER, SigningKeys.id(keys.getPublic()).getBytes(StandardCharsets.US_ASCII))
          });
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with " + keys.getPrivate().getAlgorithm(), e);
    }
  }

  /** The id of the key a record says it is signed with, if it names one. */
  public static Optional<String> keyIdOf(Headers headers) {
    Header keyId = headers == null ? null : headers.lastHeader(KEY_HEADER);
    return Optional.ofNullable(keyId).map(h -> new String(h.value(), StandardCharsets.US_ASCII));
  }

  /** Checks signatures against a fixed set of trusted public keys. */
  public static final class Verifier {

    private final Map<String, PublicKey> trusted = new LinkedHashMap<>();

    public Verifier(List<PublicKey> trusted) {
      trusted.forEach(k -> this.trusted.put(SigningKeys.id(k), k));
    }

    /** The ids of the trusted keys. */
    public List<String> keyIds() {
      return List.copyOf(trusted.keySet());
    }

    /** Whether {@code keyId} names one of the trusted keys. */
    public boolean trusts(String keyId) {
      return trusted.containsKey(keyId);
    }

    /**
     * Accepts {@code value} only when {@code headers} carry a valid signature of it by a trusted
     * key.
     *
     * @throws WireFormatException {@link Reason#BAD_SIGNATURE}, saying what is wrong: unsigned, an
     *     unknown key, or a signature that does not match (altered after signing, or forged)
     */
    public void verify(byte[] value, Headers headers) {
      verify("checkpoint", value, headers);
    }

    /**
     * As {@link #verify(byte[], Headers)}, naming the record {@code what} in the error ("control
     * record", "checkpoint").
     */
    public void verify(String what, byte[] value, Headers headers) {
      Header signature = headers == null ? null : headers.lastHeader(SIGNATURE_HEADER);
      Optional<String> keyId = keyIdOf(headers);
      if (signature == null || keyId.isEmpty()) {
        throw bad(what, "is not signed (no " + SIGNATURE_HEADER + " header)");
      }
      String id = keyId.get();
      PublicKey key = trusted.get(id);
      if (key == null) {
        throw bad(
            what,
            "is signed by key "
                + id
                + ", which this service does not trust"
                + (trusted.isEmpty() ? " (it trusts none)" : " (it trusts " + keyIds() + ")"));
      }
      boolean valid;
      try {
        Signature s = Signature.getInstance(SigningKeys.ALGORITHM);
        s.initVerify(key);
        s.update(value);
        valid = s.verify(Base64.getDecoder().decode(signature.value()));
      } catch (GeneralSecurityException | IllegalArgumentException e) {
        valid = false;
      }
      if (!valid) {
        throw bad(what, "has a signature by key " + id + " that does not match its bytes");
      }
    }

    private static WireFormatException bad(String what, String problem) {
      return new WireFormatException(Reason.BAD_SIGNATURE, what + " " + problem);
    }
  }
}
