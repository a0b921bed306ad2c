package lenet.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineLocksTest {

  @TempDir Path run;

  @Test
  void aDownThatEndedAfterThisProcessStartedCounts() throws Exception {
    PipelineLocks locks = new PipelineLocks(run);
    assertThat(locks.stoppedSinceStart()).as("no down ever ran").isFalse();

    locks.requestStop();
    locks.release(); // a down that ends now, long after this JVM started
    assertThat(Files.readString(run.resolve("stop.lock"))).startsWith("stopped ");
    assertThat(new PipelineLocks(run).stoppedSinceStart()).isTrue();
  }

  @Test
  void aDownThatEndedBeforeThisProcessStartedOrBeforeABootDoesNot() throws Exception {
    String btime =
        Files.readAllLines(Path.of("/proc/stat")).stream()
            .filter(l -> l.startsWith("btime "))
            .findFirst()
            .orElseThrow()
            .substring(6);
    Files.writeString(run.resolve("stop.lock"), "stopped " + btime + " 0.01\n");
    assertThat(new PipelineLocks(run).stoppedSinceStart()).isFalse();
    Files.writeString(run.resolve("stop.lock"), "stopped 1 99999999.00\n");
    assertThat(new PipelineLocks(run).stoppedSinceStart()).as("another boot").isFalse();
  }
}
