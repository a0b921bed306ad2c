package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;
import lenet.inference.config.InferenceConfig.CandidateChoice;
import lenet.inference.config.InferenceConfig.Policy;
import lenet.model.LeNet5;
import org.junit.jupiter.api.Test;

/**
 * Which parameters a replica keeps in memory as versions keep coming (a bounded set), and what the
 * control records mean against the checkpoints this replica knows.
 */
class ModelStateTest {

  private static final int KEEP = 8;
  private static final int PROMOTED = 10;

  @Test
  void underPolicyLatestOnlyTheNewestAndTheServingOneKeepTheirParameters() {
    ModelState state = new ModelState(Policy.LATEST, CandidateChoice.FINAL, PROMOTED);
    for (long v = 1; v <= 300; v++) {
      add(state, v); // each a completed one-epoch run: a candidate no gate ever judges
    }
    assertThat(held(state)).isEqualTo(KEEP);
    assertThat(state.catalog.get(300).orElseThrow().loadable()).isTrue();
    assertThat(state.catalog.entries()).hasSize(300);
  }

  @Test
  void underPolicyGatedTheRecentChampionsAndTheWaitingCandidatesAreKept() {
    ModelState state = new ModelState(Policy.GATED, CandidateChoice.FINAL, PROMOTED);
    for (long v = 1; v <= 200; v++) {
      add(state, v);
      if (v <= 100) {
        state.control.apply(
            "lenet5/v" + v + "/promote",
            ModelControl.verdict(true, LeNet5.MODEL_NAME, v, null, null, "test", "better"),
            ControlTrust.Authority.FLEET,
            "control-" + v);
      }
    }
    // v1..v100 promoted (champion v100), v101..v200 waiting for the gate.
    assertThat(state.catalog.get(100).orElseThrow().loadable()).as("champion").isTrue();
    assertThat(state.catalog.get(91).orElseThrow().loadable()).as("10th newest promoted").isTrue();
    assertThat(state.catalog.get(90).orElseThrow().loadable()).as("11th newest promoted").isFalse();
    assertThat(state.catalog.get(101).orElseThrow().loadable()).as("waiting candidate").isTrue();
    assertThat(held(state)).isEqualTo(PROMOTED + 100);
  }

  @Test
  void aVersionBeingPinnedKeepsItsParametersWhileThePinTravels() {
    ModelState state = new ModelState(Policy.LATEST, CandidateChoice.FINAL, PROMOTED);
    for (long v = 1; v <= 20; v++) {
      add(state, v);
    }
    assertThat(state.catalog.get(13).orElseThrow().loadable()).isTrue();
    state.pinning.add(13L); // Pins.activate checked it and wrote the pin
    for (long v = 21; v <= 40; v++) {
      add(state, v);
    }
    assertThat(state.catalog.get(13).orElseThrow().loadable()).isTrue();
    assertThat(state.catalog.get(14).orElseThrow().loadable()).isFalse();
    state.pinning.remove(13L);
    add(state, 41);
    assertThat(state.catalog.get(13).orElseThrow().loadable()).isFalse();
  }

  @Test
  void promotionsAndPinsOfUnknownVersionsChangeNothingAndBlockNoGate() {
    ModelState state = new ModelState(Policy.GATED, CandidateChoice.FINAL, PROMOTED);
    add(state, 1);
    promote(state, 1);
    promote(state, Long.MAX_VALUE); // no checkpoint has this version
    apply(state, ModelControl.pin(LeNet5.MODEL_NAME, 999, "x", "unknown"));
    assertThat(state.champion()).contains(1L);
    assertThat(state.pinned()).isEmpty();
    assertThat(state.wanted().map(ModelCatalog.Entry::version)).contains(1L);
    add(state, 2);
    assertThat(state.nextCandidate(Optional.empty()).map(ModelCatalog.Entry::version))
        .as("a candidate newer than the real champion is still gated")
        .contains(2L);
    // Once its checkpoint arrives, the pin counts.
    add(state, 999);
    assertThat(state.pinned()).contains(999L);
  }

  @Test
  void aTrainersRejectCountsOnlyForTheRunItNames() {
    ModelState state = new ModelState(Policy.GATED, CandidateChoice.FINAL, PROMOTED);
    add(state, 5); // run-5
    add(state, 6); // run-6
    state.control.apply(
        "lenet5/v5/reject",
        ModelControl.cancelledRun(LeNet5.MODEL_NAME, 5, "run-5", "trainer", "cancelled"),
        ControlTrust.Authority.TRAINER,
        "c1");
    state.control.apply(
        "lenet5/v6/reject",
        ModelControl.cancelledRun(LeNet5.MODEL_NAME, 6, "run-5", "trainer", "not its run"),
        ControlTrust.Authority.TRAINER,
        "c2");
    assertThat(state.decided(5)).isTrue();
    assertThat(state.decided(6)).isFalse();
    assertThat(state.nextCandidate(Optional.empty()).map(ModelCatalog.Entry::version)).contains(6L);
  }

  @Test
  void verdictsAreForgottenWithTheirCheckpointAndBoundedInNumber() {
    ModelState state = new ModelState(Policy.GATED, CandidateChoice.FINAL, PROMOTED);
    add(state, 1);
    add(state, 2);
    promote(state, 1);
    promote(state, 2);
    state.remove(2); // retention deleted it
    assertThat(state.control.promotedNewestFirst()).containsExactly(1L);
    assertThat(state.champion()).contains(1L);
    for (long v = 10; v < 10 + ControlState.VERDICTS_KEPT + 500; v++) {
      promote(state, v);
    }
    assertThat(state.control.promotedNewestFirst()).hasSize(ControlState.VERDICTS_KEPT);
  }

  private static void promote(ModelState state, long v) {
    apply(state, ModelControl.verdict(true, LeNet5.MODEL_NAME, v, null, null, "test", "better"));
  }

  private static void apply(ModelState state, ModelControl record) {
    state.control.apply(record.key(), record, ControlTrust.Authority.FLEET, "test-" + record.key());
  }

  private static void add(ModelState state, long v) {
    byte[] params = {1, 2, 3};
    state.catalog.add(
        new Checkpoint(
            Checkpoint.Header.lenet5(v)
                .runId("run-" + v)
                .epoch(1, 1)
                .parametersOf(params)
                .training(0.1, 0.9)
                .dev(0.1, 0.9)
                .build(),
            params),
        "lenet5/v" + v);
    Optional<Long> serving = state.wanted().map(ModelCatalog.Entry::version);
    state.catalog.evictParameters(KEEP, state.protectedVersions(serving));
  }

  private static long held(ModelState state) {
    return state.catalog.entries().stream().filter(e -> e.checkpoint != null).count();
  }
}
