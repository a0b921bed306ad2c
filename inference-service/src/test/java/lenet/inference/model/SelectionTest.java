package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import lenet.contract.wire.Checkpoint;
import lenet.inference.config.InferenceConfig.Policy;
import org.junit.jupiter.api.Test;

class SelectionTest {

  @Test
  void latestServesTheHighestVersionWhateverTheArrivalOrder() {
    List<Checkpoint.Header> arrived = List.of(h(3, 0.99), h(5, 0.90), h(4, 0.95));
    assertThat(Selection.select(Policy.LATEST, arrived))
        .map(Checkpoint.Header::modelVersion)
        .contains(5L);
  }

  @Test
  void bestServesTheHighestDevAccuracyAndATieGoesToTheLaterCheckpoint() {
    List<Checkpoint.Header> arrived =
        List.of(h(1, 0.90), h(2, 0.97), h(3, 0.93), h(4, 0.97), h(5, 0.96));
    assertThat(Selection.select(Policy.BEST, arrived))
        .map(Checkpoint.Header::modelVersion)
        .contains(4L);
    assertThat(Selection.replaces(Policy.BEST, h(6, 0.969), h(4, 0.97))).isFalse();
    assertThat(Selection.replaces(Policy.BEST, h(6, 0.97), h(4, 0.97))).isTrue();
  }

  @Test
  void nothingToServeWithoutCandidates() {
    assertThat(Selection.select(Policy.LATEST, List.of())).isEmpty();
    assertThat(Selection.select(Policy.BEST, List.of())).isEmpty();
  }

  private static Checkpoint.Header h(long version, double devAccuracy) {
    return Checkpoint.Header.lenet5(version)
        .runId("r")
        .epoch(1, 1)
        .sha256("x")
        .dev(0, devAccuracy)
        .build();
  }
}
