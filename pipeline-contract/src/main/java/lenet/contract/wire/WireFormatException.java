package lenet.contract.wire;

/**
 * A record that cannot be decoded. The {@link Reason} is machine-readable (it becomes the
 * dead-letter reason header or the HTTP error class); the message names the exact problem for a
 * person.
 */
public final class WireFormatException extends RuntimeException {

  /**
   * Why a record was refused. The names are stable: dashboards and dead-letter consumers key on
   * them.
   */
  public enum Reason {
    EMPTY,
    TOO_LARGE,
    MALFORMED_JSON,
    WRONG_TYPE,
    UNKNOWN_FIELD,
    MISSING_FIELD,
    WRONG_PIXEL_COUNT,
    VALUE_OUT_OF_RANGE,
    UNDECODABLE_IMAGE,
    INVALID_VALUE,
    BAD_BINARY_FORMAT,
    /** A checkpoint without a valid signature of a trusted key. */
    BAD_SIGNATURE
  }

  private final Reason reason;

  public WireFormatException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public WireFormatException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  /** The reason and the message, as a dead-letter header or log line carries them. */
  public String describe() {
    return reason + ": " + getMessage();
  }
}
