package lenet.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Keeps one component running until a stop is requested: starts it, waits for it to exit, and
 * starts it again after a {@link Backoff}, counting each restart in the {@link RunDir} and logging
 * it (with the exit code and where the component's log is) to {@code supervisorLog}. So one crashed
 * service never stops the others, and {@code status} can say how often each was restarted.
 */
public final class Supervisor {

  private static final Duration POLL = Duration.ofMillis(100);

  private final Component component;
  private final RunDir run;
  private final Path supervisorLog;
  private final BooleanSupplier stopRequested;
  private final Backoff backoff;

  public Supervisor(
      Component component,
      RunDir run,
      Path supervisorLog,
      BooleanSupplier stopRequested,
      Backoff backoff) {
    this.component = component;
    this.run = run;
    this.supervisorLog = supervisorLog;
    this.stopRequested = stopRequested;
    this.backoff = backoff.fresh();
  }

  /**
   * Runs the component until a stop is requested and it has exited (the one who asked stops it, by
   * its pid file); returns how often it was restarted.
   */
  public int run() throws InterruptedException {
    String name = component.name();
    PidFile self = run.supervisor(name);
    self.write(ProcessHandle.current());
    run.restarts(name, 0);
    int restarts = 0;
    try {
      while (!stopRequested.getAsBoolean()) {
        long began = System.nanoTime();
        Launched launched = Launcher.start(component);
        run.pid(name).write(launched.handle());
        int code = launched.waitFor();
        if (stopRequested.getAsBoolean()) {
          break;
        }
        restarts++;
        run.restarts(name, restarts);
        Duration wait = backoff.after(Duration.ofNanos(System.nanoTime() - began));
        log(
            name
                + " (pid "
                + launched.pid()
                + ") exited with code "
                + code
                + "; restart "
                + restarts
                + " in "
                + wait.toSeconds()
                + "s (log "
                + component.log()
                + ")");
        sleepUnlessStopped(wait);
      }
    } finally {
      self.delete();
    }
    return restarts;
  }

  private void sleepUnlessStopped(Duration wait) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (System.nanoTime() < deadline && !stopRequested.getAsBoolean()) {
      Thread.sleep(
          Math.min(POLL.toMillis(), Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
    }
  }

  private void log(String line) {
    try {
      Files.createDirectories(supervisorLog.toAbsolutePath().getParent());
      Files.writeString(
          supervisorLog,
          Launcher.clock() + " " + line + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
