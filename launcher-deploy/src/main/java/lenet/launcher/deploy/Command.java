package lenet.launcher.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the tools the files are rendered with ({@code kubectl kustomize}, {@code docker-compose
 * config}): standard output read whole, error output kept in a file (so neither pipe can fill and
 * stall the tool) and quoted when it fails.
 */
final class Command {

  private Command() {}

  /** Whether {@code command} runs and exits 0 within 30 s (a tool is installed). */
  static boolean runs(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * The standard output of {@code builder}'s command; fails with its error output when it exits
   * other than 0 or runs past two minutes.
   */
  static String output(ProcessBuilder builder) {
    String command = String.join(" ", builder.command());
    Path err = null;
    try {
      err = Files.createTempFile("command-", ".err");
      Process p = builder.redirectError(err.toFile()).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(2, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException(command + " did not end within 2 minutes");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(command + " failed: " + Files.readString(err).strip());
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    } finally {
      if (err != null) {
        try {
          Files.deleteIfExists(err);
        } catch (IOException e) {
          // a temporary file
        }
      }
    }
  }
}
