package lenet.mnist;

/**
 * A MNIST file that is missing, corrupt, truncated or does not match its partner; the message names
 * the file.
 */
public final class MnistFormatException extends RuntimeException {
  public MnistFormatException(String message) {
    super(message);
  }

  public MnistFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
