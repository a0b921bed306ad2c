package lenet.launcher.cli;

/** Ends a CLI command with a message for the user and an exit status. */
final class CliException extends RuntimeException {

  private final int status;

  CliException(String message, int status) {
    super(message, null, false, false);
    this.status = status;
  }

  int status() {
    return status;
  }
}
