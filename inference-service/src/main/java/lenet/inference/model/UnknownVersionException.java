package lenet.inference.model;

/** A model version that is not known (or not loaded, where a loaded one is needed): HTTP 404. */
public final class UnknownVersionException extends RuntimeException {

  public UnknownVersionException(String message) {
    super(message);
  }
}
