package lenet.launcher;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Stops components by their pid files in a {@link RunDir}: SIGTERM to every named one at once,
 * SIGKILL to any still there after the grace period; then their supervisors (which restart nothing
 * once a stop is requested) are given a moment to end, and killed if they do not, and so is a
 * component a supervisor started just before it saw the request. Only processes the pid files name
 * (and whose start time matches) are signalled.
 */
public final class Stopper {

  private static final Duration SUPERVISOR_GRACE = Duration.ofSeconds(5);

  private final RunDir run;
  private final Duration grace;
  private final PrintStream out;

  public Stopper(RunDir run, Duration grace, PrintStream out) {
    this.run = run;
    this.grace = grace;
    this.out = out;
  }

  /** Stops the named components together; returns once none of them (or their supervisors) runs. */
  public void stop(List<String> names) {
    List<String> signalled = new ArrayList<>();
    for (String name : names) {
      Optional<ProcessHandle> p = run.pid(name).running();
      if (p.isPresent()) {
        p.get().destroy();
        signalled.add(name);
      }
    }
    long deadline = System.nanoTime() + grace.toNanos();
    for (String name : signalled) {
      Optional<ProcessHandle> p = run.pid(name).running();
      p.ifPresent(h -> awaitExit(h, deadline));
      run.pid(name).running().ifPresent(Stopper::kill);
      say(
          "stopped "
              + name
              + " (pid "
              + run.pid(name).pid().map(String::valueOf).orElse("?")
              + ")");
    }
    for (String name : names) {
      // A supervisor that ends deletes its pid file: wait for that (or for its process to exit,
      // which also makes the file name nothing that runs), then kill what still runs.
      PidFile supervisor = run.supervisor(name);
      long until = System.nanoTime() + SUPERVISOR_GRACE.toNanos();
      while (supervisor.running().isPresent() && System.nanoTime() < until) {
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      supervisor.running().ifPresent(Stopper::kill);
      Optional<ProcessHandle> late = run.pid(name).running();
      if (late.isPresent()) {
        kill(late.get());
        say("stopped " + name + " (pid " + late.get().pid() + ")");
      }
      run.pid(name).delete();
      run.supervisor(name).delete();
    }
  }

  /** SIGKILL to the named components, at once (a fault injected on purpose). */
  public void kill(List<String> names) {
    for (String name : names) {
      run.pid(name).running().ifPresent(Stopper::kill);
    }
  }

  private static void awaitExit(ProcessHandle p, long deadline) {
    while (p.isAlive() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static void kill(ProcessHandle p) {
    p.destroyForcibly();
    p.onExit().join();
  }

  private void say(String line) {
    out.println(Launcher.clock() + " " + line);
  }
}
