package lenet.trainer.runs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.Map;
import lenet.contract.wire.TrainingEvent;
import lenet.trainer.TrainerConfig;
import org.junit.jupiter.api.Test;

/**
 * The run list's bound: finished runs beyond {@code trainer.runs.keep} go, the oldest end first.
 */
class RunRegistryTest {

  @Test
  void keepsTheNewestFinishedRunsOnly() {
    RunRegistry registry = registry(3);
    for (int i = 1; i <= 10; i++) {
      registry.apply(new TrainingEvent.Failed("bad-" + i, "bad command: epochs -1", 1000L + i));
    }
    assertThat(registry.all())
        .extracting(RunRegistry.Run::runId)
        .containsExactly("bad-10", "bad-9", "bad-8");
    assertThat(registry.get("bad-1")).isEmpty();
  }

  @Test
  void neverDropsQueuedOrRunningRuns() {
    RunRegistry registry = registry(1);
    registry.apply(new TrainingEvent.Queued("waits", 5, 1, "settings", 1L));
    registry.apply(
        new TrainingEvent.Started(
            "runs", 5, "cpu", "settings", null, null, "trainer-test", null, 2L));
    registry.apply(epoch("runs", 1, 3L));
    for (int i = 1; i <= 5; i++) {
      registry.apply(new TrainingEvent.Failed("bad-" + i, "bad command", 10L + i));
    }
    assertThat(registry.all())
        .extracting(RunRegistry.Run::runId, RunRegistry.Run::state)
        .containsExactlyInAnyOrder(
            tuple("waits", "QUEUED"), tuple("runs", "RUNNING"), tuple("bad-5", "FAILED"));
    assertThat(registry.get("runs").orElseThrow().history()).hasSize(1);
  }

  @Test
  void aRunThatEndsLaterOutlivesOlderEnds() {
    RunRegistry registry = registry(2);
    registry.apply(
        new TrainingEvent.Started(
            "long", 2, "cpu", "settings", null, null, "trainer-test", null, 1L));
    registry.apply(new TrainingEvent.Failed("bad-1", "bad command", 2L));
    registry.apply(new TrainingEvent.Failed("bad-2", "bad command", 3L));
    registry.apply(new TrainingEvent.Completed("long", 2, 2, 0.05, 0.99, null, null, 7L, 60.0, 4L));
    assertThat(registry.all())
        .extracting(RunRegistry.Run::runId)
        .as("the long run ended last, so bad-1 is the oldest end; newest start first")
        .containsExactly("bad-2", "long");
    assertThat(registry.get("long").orElseThrow().modelVersion()).isEqualTo(7L);
  }

  private static TrainingEvent.Epoch epoch(String runId, int epoch, long timestamp) {
    return new TrainingEvent.Epoch(
        runId, epoch, 5, 0.1, 0.9, 0.1, 0.9, null, null, null, 6.0, 10_000, 1L, timestamp);
  }

  /**
   * A registry under the real configuration mapping and its defaults, with {@code
   * trainer.runs.keep=keep}.
   */
  private static RunRegistry registry(int keep) {
    TrainerConfig config =
        new SmallRyeConfigBuilder()
            .withMapping(TrainerConfig.class)
            .withConverter(
                Duration.class, 100, new DurationConverter()) // "10m", as Quarkus reads it
            .withSources(
                new PropertiesConfigSource(
                    Map.of("trainer.runs.keep", String.valueOf(keep)), "test", 100))
            .build()
            .getConfigMapping(TrainerConfig.class);
    return new RunRegistry(config);
  }
}
