package lenet.inference.model;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.WireFormatException;
import org.apache.kafka.common.header.Headers;

/**
 * Which records of the control topic may change what serves. Every replica of the fleet holds the
 * same control key pair ({@code inference.signing.control-key-file}) and signs each record it
 * writes (gate verdicts, pins, follows, and the tombstones retention writes) over its value; a
 * record counts only when it verifies against a trusted control key and is stored under its own key
 * ({@link ModelControl#key()}: a verdict copied under another key would escape the records that
 * undo it). Only the fleet writes the control topic: a record signed by any other key (a trainer's
 * included) changes nothing.
 */
public final class ControlTrust {

  /** Why a control record was ignored. */
  enum Reason {
    /** Not JSON of a control record this build reads. */
    UNREADABLE,
    /** Unsigned, signed by an untrusted key, or its bytes differ from what was signed. */
    BAD_SIGNATURE,
    /** Signed, but stored under another key than its own. */
    KEY_MISMATCH
  }

  /** A record that changes nothing, and why. */
  static final class Refused extends RuntimeException {
    final Reason reason;

    Refused(Reason reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }
  }

  private static final String WHAT = "control record";

  private final KeyPair fleetKey;
  private final CheckpointSignature.Verifier fleet;

  /**
   * @param fleetKey the pair this replica signs with (its public key is trusted)
   * @param moreFleetKeys other trusted control keys (a rotation: the old key's public half)
   */
  public ControlTrust(KeyPair fleetKey, List<PublicKey> moreFleetKeys) {
    this.fleetKey = fleetKey;
    List<PublicKey> keys = new ArrayList<>();
    keys.add(fleetKey.getPublic());
    keys.addAll(moreFleetKeys);
    this.fleet = new CheckpointSignature.Verifier(keys);
  }

  /** The ids of the trusted control keys; the first is this replica's own. */
  public List<String> keyIds() {
    return fleet.keyIds();
  }

  /** The headers that sign a control record's {@code value} with this replica's key. */
  Headers sign(byte[] value) {
    return CheckpointSignature.sign(value, fleetKey);
  }

  /** The headers that sign a tombstone (deletion) of control record {@code key}. */
  Headers signTombstone(String key) {
    return CheckpointSignature.sign(tombstone(key), fleetKey);
  }

  /**
   * Checks one record of the control topic.
   *
   * @param key the record's key
   * @param record its decoded value, null for a tombstone
   * @param value its bytes, null for a tombstone
   * @throws Refused when it must change nothing
   */
  void verify(String key, ModelControl record, byte[] value, Headers headers) {
    if (record == null) {
      fleetVerify(tombstone(key), headers, "tombstone of " + key);
      return;
    }
    if (!record.key().equals(key)) {
      throw new Refused(
          Reason.KEY_MISMATCH,
          "a "
              + record.type()
              + " record stored under key '"
              + key
              + "' instead of its own '"
              + record.key()
              + "'");
    }
    fleetVerify(value, headers, WHAT);
  }

  private void fleetVerify(byte[] signed, Headers headers, String what) {
    try {
      fleet.verify(what, signed, headers);
    } catch (WireFormatException e) {
      throw new Refused(Reason.BAD_SIGNATURE, e.getMessage());
    }
  }

  private static byte[] tombstone(String key) {
    return ("tombstone " + key).getBytes(StandardCharsets.UTF_8);
  }
}
