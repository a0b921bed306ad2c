package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import lenet.contract.wire.Checkpoint;
import lenet.inference.config.InferenceConfig.CandidateChoice;
import org.junit.jupiter.api.Test;

/** Which checkpoint of a run is its candidate, and which parameters stay in memory. */
class ModelCatalogTest {

  @Test
  void aRunIsACandidateOnlyOnceItsFinalEpochArrives() {
    ModelCatalog catalog = new ModelCatalog();
    catalog.add(checkpoint(1, "r1", 1, 3, 0.95), "lenet5/v1");
    catalog.add(checkpoint(2, "r1", 2, 3, 0.98), "lenet5/v2");
    assertThat(catalog.candidates(CandidateChoice.FINAL)).isEmpty();
    catalog.add(checkpoint(3, "r1", 3, 3, 0.97), "lenet5/v3");
    assertThat(catalog.candidates(CandidateChoice.FINAL).get(3L).version()).isEqualTo(3);
  }

  @Test
  void bestEpochPicksTheRunsBestDevAccuracyAndATieGoesToTheLaterEpoch() {
    ModelCatalog catalog = new ModelCatalog();
    catalog.add(checkpoint(1, "r1", 1, 4, 0.95), "lenet5/v1");
    catalog.add(checkpoint(2, "r1", 2, 4, 0.98), "lenet5/v2");
    catalog.add(checkpoint(3, "r1", 3, 4, 0.98), "lenet5/v3");
    catalog.add(checkpoint(4, "r1", 4, 4, 0.97), "lenet5/v4");
    catalog.add(checkpoint(5, "r2", 1, 1, 0.99), "lenet5/v5");
    var candidates = catalog.candidates(CandidateChoice.BEST_EPOCH);
    assertThat(candidates.get(4L).version()).isEqualTo(3);
    assertThat(candidates.get(5L).version())
        .as("another run's better epoch is not r1's")
        .isEqualTo(5);
  }

  @Test
  void evictionKeepsTheProtectedVersionsParameters() {
    ModelCatalog catalog = new ModelCatalog();
    for (int v = 1; v <= 5; v++) {
      catalog.add(checkpoint(v, "r" + v, 1, 1, 0.9), "lenet5/v" + v);
    }
    catalog.evictParameters(2, Set.of(1L));
    assertThat(catalog.get(1).orElseThrow().loadable()).isTrue();
    assertThat(catalog.get(2).orElseThrow().loadable()).isFalse();
    assertThat(catalog.get(3).orElseThrow().loadable()).isFalse();
    assertThat(catalog.get(4).orElseThrow().loadable()).isFalse();
    assertThat(catalog.get(5).orElseThrow().loadable()).isTrue();
    assertThat(catalog.entries()).hasSize(5);
  }

  private static Checkpoint checkpoint(long v, String run, int epoch, int epochs, double dev) {
    byte[] params = {1, 2, 3};
    return new Checkpoint(
        Checkpoint.Header.lenet5(v)
            .runId(run)
            .epoch(epoch, epochs)
            .parametersOf(params)
            .training(0.1, 0.9)
            .dev(0.1, dev)
            .build(),
        params);
  }
}
