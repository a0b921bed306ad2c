package lenet.launcher;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A process the launcher started (or found again by its pid file): wait until it is ready, stop it
 * (SIGTERM, then SIGKILL after a grace period) or kill it (SIGKILL at once).
 */
public final class Launched {

  private static final Duration POLL = Duration.ofMillis(200);

  private final Component component;
  private final ProcessHandle handle;
  private final Process process;

  Launched(Component component, Process process) {
    this.component = component;
    this.handle = process.toHandle();
    this.process = process;
  }

  Launched(Component component, ProcessHandle handle) {
    this.component = component;
    this.handle = handle;
    this.process = null;
  }

  public Component component() {
    return component;
  }

  public ProcessHandle handle() {
    return handle;
  }

  public long pid() {
    return handle.pid();
  }

  public boolean isAlive() {
    return handle.isAlive();
  }

  /** The exit code, once it has exited and this JVM started it; empty otherwise. */
  public Optional<Integer> exitCode() {
    return process == null || process.isAlive()
        ? Optional.empty()
        : Optional.of(process.exitValue());
  }

  /** Waits for the process to exit; its exit code (-1 when this JVM did not start it). */
  public int waitFor() throws InterruptedException {
    if (process != null) {
      return process.waitFor();
    }
    handle.onExit().join();
    return -1;
  }

  /**
   * Returns once the component's {@link Readiness} holds; fails when it exits or the time runs out.
   */
  public Launched awaitReady(Duration timeout) throws NotReadyException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (!handle.isAlive()) {
        throw new NotReadyException(
            NotReadyException.Reason.EXITED,
            component.name()
                + " (pid "
                + pid()
                + ") exited"
                + exitCode().map(c -> " with code " + c).orElse("")
                + " before it was ready; see "
                + component.log());
      }
      if (component.readiness().isReady(component.log())) {
        return this;
      }
      if (System.nanoTime() > deadline) {
        throw new NotReadyException(
            NotReadyException.Reason.TIMED_OUT,
            component.name()
                + " (pid "
                + pid()
                + ") was not ready within "
                + timeout.toSeconds()
                + " s; see "
                + component.log());
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  /** SIGTERM, then SIGKILL when it still runs after {@code grace}; returns once it is gone. */
  public void stop(Duration grace) {
    if (!handle.isAlive()) {
      return;
    }
    handle.destroy();
    try {
      handle.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      kill();
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      kill();
      Thread.currentThread().interrupt();
    }
  }

  /** SIGKILL (no chance to clean up); returns once it is gone. */
  public void kill() {
    handle.destroyForcibly();
    handle.onExit().join();
  }
}
