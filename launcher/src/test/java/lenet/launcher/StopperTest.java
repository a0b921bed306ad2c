package lenet.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StopperTest {

  @TempDir Path dir;

  @Test
  void stopsEveryNamedComponentByItsPidFile() throws Exception {
    RunDir run = new RunDir(dir);
    Launched a = started(run, "a");
    Launched b = started(run, "b");

    stopper(run).stop(List.of("a", "b"));

    assertThat(a.isAlive()).isFalse();
    assertThat(b.isAlive()).isFalse();
    assertThat(Files.list(dir).map(p -> p.getFileName().toString()))
        .noneMatch(f -> f.endsWith(".pid") || f.endsWith(".supervisor"));
  }

  @Test
  void neverSignalsAProcessThatOnlyHasTheWrittenPid() throws Exception {
    RunDir run = new RunDir(dir);
    Launched other = started(run, "a");
    try {
      // The PID file now names a process that started at another time: a reused PID.
      Files.writeString(dir.resolve("a.pid.started"), "12345");
      assertThat(run.state("a")).isEqualTo(RunDir.State.STOPPED);

      stopper(run).stop(List.of("a"));
      stopper(run).kill(List.of("a"));

      assertThat(other.isAlive()).isTrue();
    } finally {
      other.kill();
    }
  }

  @Test
  void killsWithoutWaiting() throws Exception {
    RunDir run = new RunDir(dir);
    Launched a = started(run, "a");
    stopper(run).kill(List.of("a"));
    assertThat(a.isAlive()).isFalse();
  }

  private static Launched started(RunDir run, String name) {
    Launched l = Launcher.start(Processes.shell(run.dir(), name, "exec sleep 60"));
    run.pid(name).write(l.handle());
    return l;
  }

  private static Stopper stopper(RunDir run) {
    return new Stopper(run, Duration.ofSeconds(10), new PrintStream(new ByteArrayOutputStream()));
  }
}
