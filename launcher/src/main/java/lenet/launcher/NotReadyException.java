package lenet.launcher;

/**
 * A started process that exited, or was not ready in time; the message says which and where its log
 * is.
 */
public final class NotReadyException extends Exception {

  /** Why: the process ended, or the wait ran out. */
  public enum Reason {
    EXITED,
    TIMED_OUT
  }

  private final Reason reason;

  NotReadyException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
