package lenet.inference.model;

/**
 * A known version that cannot serve (its parameters were evicted, or it failed to load): HTTP 409.
 */
public final class ActivationException extends RuntimeException {

  public ActivationException(String message) {
    super(message);
  }
}
