package lenet.inference.model;

/** No checkpoint serves yet: callers answer 503 (HTTP) or wait (Kafka). */
public final class NoModelException extends RuntimeException {

  public NoModelException(String message) {
    super(message);
  }
}
