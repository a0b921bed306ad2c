package lenet.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SupervisorTest {

  private static final Backoff QUICK =
      new Backoff(Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(60));

  @TempDir Path dir;

  private final AtomicBoolean stop = new AtomicBoolean();

  @Test
  void restartsAComponentThatExitsCountingAndLoggingEachRestart() throws Exception {
    RunDir run = new RunDir(dir);
    Component crashing = Processes.shell(dir, "svc", "echo started; exit 3");
    CompletableFuture<Integer> restarts = supervise(crashing, run);

    await().atMost(Duration.ofSeconds(20)).until(() -> run.restarts("svc") >= 3);
    stop.set(true);
    int counted = restarts.get(10, TimeUnit.SECONDS);

    assertThat(counted).isGreaterThanOrEqualTo(3);
    assertThat(run.restarts("svc")).isEqualTo(counted);
    List<String> lines = Files.readAllLines(dir.resolve("supervisor.log"));
    assertThat(lines.get(0)).contains("svc (pid ").contains("exited with code 3; restart 1 in 0s");
    assertThat(Files.readString(crashing.log())).contains("started");
    assertThat(run.supervisor("svc").running()).as("the supervisor's pid file is gone").isEmpty();
  }

  @Test
  void aStopRequestEndsItWithoutARestartOnceTheComponentIsStopped() throws Exception {
    RunDir run = new RunDir(dir);
    Component sleeper = Processes.shell(dir, "svc", "exec sleep 60");
    CompletableFuture<Integer> restarts = supervise(sleeper, run);
    await().atMost(Duration.ofSeconds(10)).until(() -> run.state("svc") == RunDir.State.RUNNING);
    long pid = run.pid("svc").pid().orElseThrow();

    stop.set(true);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new Stopper(run, Duration.ofSeconds(10), new PrintStream(out, true)).stop(List.of("svc"));

    assertThat(restarts.get(10, TimeUnit.SECONDS)).isZero();
    assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty();
    assertThat(run.state("svc")).isEqualTo(RunDir.State.STOPPED);
    assertThat(out.toString()).contains("stopped svc (pid " + pid + ")");
    assertThat(Files.exists(dir.resolve("svc.pid"))).isFalse();
  }

  @Test
  void backsOffBetweenRestartsAndShowsRestartingMeanwhile() throws Exception {
    RunDir run = new RunDir(dir);
    Backoff slow =
        new Backoff(Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(60));
    CompletableFuture<Integer> restarts =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return new Supervisor(
                        Processes.shell(dir, "svc", "exit 1"),
                        run,
                        dir.resolve("supervisor.log"),
                        stop::get,
                        slow)
                    .run();
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    await().atMost(Duration.ofSeconds(10)).until(() -> run.restarts("svc") == 1);
    Thread.sleep(500);
    assertThat(run.restarts("svc")).as("no second start during the 30 s backoff").isEqualTo(1);
    assertThat(run.state("svc")).isEqualTo(RunDir.State.RESTARTING);
    stop.set(true);
    assertThat(restarts.get(5, TimeUnit.SECONDS)).as("a stop cuts the backoff short").isEqualTo(1);
  }

  private CompletableFuture<Integer> supervise(Component c, RunDir run) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return new Supervisor(c, run, dir.resolve("supervisor.log"), stop::get, QUICK).run();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
  }
}
