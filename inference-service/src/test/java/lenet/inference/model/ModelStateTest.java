package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import java.util.stream.LongStream;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;
import lenet.inference.config.InferenceConfig;
import lenet.inference.config.InferenceConfigs;
import lenet.model.LeNet5;
import org.junit.jupiter.api.Test;

/**
 * Every decision of the lifecycle core, without Kafka or DJL: what serves, what the gate judges
 * next, what a gate outcome means, what may be pinned, which parameters stay in memory (a bounded
 * set) and what retention deletes.
 */
class ModelStateTest {

  private static final int KEEP = 8;
  private static final int PROMOTED = 10;

  // ------------------------------------------------------------------ what serves

  @Test
  void nothingIsDecidedBeforeTheWholeHistoryIsRead() {
    ModelState state = state("latest");
    add(state, 1);
    assertThat(state.nextAction(Optional.empty())).isInstanceOf(ModelState.Action.Idle.class);
    state.caughtUp();
    assertThat(loads(state)).contains(1L);
  }

  @Test
  void underPolicyGatedOnlyAPromotedVersionServesAndTheNewestUndecidedCandidateIsGated() {
    ModelState state = caughtUp("gated");
    add(state, 1);
    add(state, 2);
    ModelState.Action a = state.nextAction(Optional.empty());
    assertThat(a).isInstanceOf(ModelState.Action.Gate.class);
    ModelState.Action.Gate gate = (ModelState.Action.Gate) a;
    assertThat(gate.candidate().header().modelVersion()).isEqualTo(2);
    assertThat(gate.championVersion()).isNull();

    promote(state, 2);
    assertThat(loads(state)).as("the champion loads").contains(2L);
    state.served(2);
    assertThat(state.nextAction(Optional.empty()))
        .as("v1 is older than the champion: never gated")
        .isInstanceOf(ModelState.Action.Idle.class);

    add(state, 3);
    gate = (ModelState.Action.Gate) state.nextAction(Optional.empty());
    assertThat(gate.championVersion()).isEqualTo(2);
    assertThat(gate.champion().map(c -> c.header().modelVersion())).contains(2L);
    assertThat(gate.championGate()).as("promoted without gate figures here").isEmpty();
  }

  @Test
  void aPinWinsOverTheChampionAndFollowReturnsToIt() {
    ModelState state = caughtUp("gated");
    add(state, 1);
    add(state, 2);
    promote(state, 1);
    promote(state, 2);
    state.served(2);
    apply(state, ModelControl.pin(LeNet5.MODEL_NAME, 1, "x", "rollback"));
    assertThat(loads(state)).contains(1L);
    state.served(1);
    assertThat(state.whyServes(1)).isEqualTo("pinned");
    apply(state, ModelControl.follow(LeNet5.MODEL_NAME, "x", "forward"));
    assertThat(loads(state)).contains(2L);
    assertThat(state.following()).as("v1 still serves").isFalse();
    state.served(2);
    assertThat(state.following()).isTrue();
  }

  @Test
  void aVersionThatFailedToLoadIsSkippedForTheEarlierChampion() {
    ModelState state = caughtUp("gated");
    add(state, 1);
    add(state, 2);
    promote(state, 1);
    promote(state, 2);
    state.failed(2, "LOAD_FAILED: broken");
    assertThat(loads(state)).contains(1L);
    state.served(1);
    assertThat(state.whyServes(1)).startsWith("an earlier champion");
  }

  @Test
  void underPolicyLatestTheNewestVersionServesAndNothingIsGated() {
    ModelState state = caughtUp("latest");
    add(state, 1);
    add(state, 2);
    assertThat(loads(state)).contains(2L);
    state.served(2);
    assertThat(state.nextAction(Optional.empty())).isInstanceOf(ModelState.Action.Idle.class);
  }

  // ------------------------------------------------------------------ verdicts

  @Test
  void aCandidatePromotesOnlyWhenItPassedItsGateAndAgreedEnoughInShadow() {
    ModelState state =
        new ModelState(
            InferenceConfigs.of(
                "inference.shadow.fraction", "0.5", "inference.shadow.min-agreement", "0.9"),
            "r1");
    state.caughtUp();
    GateOutcome passed = new GateOutcome(true, null, "v2 scored 0.99", null);
    GateOutcome failed = new GateOutcome(false, null, "v2 scored 0.5", null);
    assertThat(state.shadowsFirst(passed)).as("no champion: no traffic to shadow").isFalse();
    add(state, 1);
    promote(state, 1);
    assertThat(state.shadowsFirst(passed)).isTrue();
    assertThat(state.shadowsFirst(failed)).isFalse();

    assertThat(state.verdict(2, failed, null).type()).isEqualTo(ModelControl.Type.REJECT);
    assertThat(state.verdict(2, passed, new ModelControl.Shadow(100, 0.95, 1)).type())
        .isEqualTo(ModelControl.Type.PROMOTE);
    ModelControl disagreed = state.verdict(2, passed, new ModelControl.Shadow(100, 0.5, 1));
    assertThat(disagreed.type()).isEqualTo(ModelControl.Type.REJECT);
    assertThat(disagreed.reason()).contains("agreement 0.5000 (minimum 0.9000)");
    assertThat(disagreed.by()).isEqualTo("r1");
  }

  @Test
  void aCandidateJudgedHereIsNotGatedAgainWhileItsVerdictTravels() {
    ModelState state = caughtUp("gated");
    add(state, 1);
    assertThat(state.nextAction(Optional.empty())).isInstanceOf(ModelState.Action.Gate.class);
    state.judged(1);
    assertThat(state.nextAction(Optional.empty())).isInstanceOf(ModelState.Action.Idle.class);
  }

  @Test
  void aShadowOfACandidateTheFleetDecidedEnds() {
    ModelState state = caughtUp("gated");
    add(state, 1);
    add(state, 2);
    promote(state, 1);
    state.served(1);
    assertThat(state.nextAction(Optional.of(2L)))
        .as("the shadowing candidate is not gated again")
        .isInstanceOf(ModelState.Action.Idle.class);
    apply(state, ModelControl.verdict(false, LeNet5.MODEL_NAME, 2, null, null, "B", "worse"));
    assertThat(state.nextAction(Optional.of(2L))).isEqualTo(new ModelState.Action.EndShadow(2));
  }

  @Test
  void promotionsAndPinsOfUnknownVersionsChangeNothingAndBlockNoGate() {
    ModelState state = caughtUp("gated");
    add(state, 1);
    promote(state, 1);
    promote(state, Long.MAX_VALUE); // no checkpoint has this version
    apply(state, ModelControl.pin(LeNet5.MODEL_NAME, 999, "x", "unknown"));
    assertThat(state.champion()).contains(1L);
    assertThat(state.pinned()).isEmpty();
    assertThat(loads(state)).contains(1L);
    state.served(1);
    add(state, 2);
    assertThat(gated(state)).as("a candidate newer than the real champion is gated").contains(2L);
    add(state, 999); // once its checkpoint arrives, the pin counts
    assertThat(state.pinned()).contains(999L);
  }

  @Test
  void verdictsAreForgottenWithTheirCheckpointAndBoundedInNumber() {
    ModelState state = caughtUp("gated");
    add(state, 1);
    add(state, 2);
    promote(state, 1);
    promote(state, 2);
    state.delete(2); // retention deleted it
    assertThat(state.champion()).contains(1L);
    add(state, 2); // the same version again: its old verdict does not come back with it
    assertThat(state.decided(2)).isFalse();
    for (long v = 10; v < 10 + ControlState.VERDICTS_KEPT + 500; v++) {
      promote(state, v);
    }
    add(state, 10);
    assertThat(state.decided(10)).as("the oldest verdicts beyond the bound are dropped").isFalse();
  }

  @Test
  void aDeletedCheckpointThatServesKeepsServing() {
    ModelState state = caughtUp("latest");
    add(state, 1);
    state.served(1);
    state.delete(1);
    assertThat(state.versions()).isEqualTo(1);
    assertThat(state.nextAction(Optional.empty())).isInstanceOf(ModelState.Action.Idle.class);
  }

  // ------------------------------------------------------------------ pins

  @Test
  void onlyAKnownLoadableVersionWithItsParametersInMemoryCanBePinned() {
    ModelState state = caughtUp("latest");
    for (long v = 1; v <= 20; v++) {
      add(state, v);
    }
    state.failed(20, "LOAD_FAILED: broken");
    assertThatThrownBy(() -> state.pinRequested(99))
        .isInstanceOfSatisfying(ModelState.PinRefused.class, e -> assertThat(e.unknown).isTrue())
        .hasMessageContaining("unknown");
    assertThatThrownBy(() -> state.pinRequested(20))
        .isInstanceOfSatisfying(ModelState.PinRefused.class, e -> assertThat(e.unknown).isFalse())
        .hasMessageContaining("cannot serve");
    assertThatThrownBy(() -> state.pinRequested(1)).hasMessageContaining("inference.keep-versions");
    apply(state, ModelControl.pin(LeNet5.MODEL_NAME, 15, "x", "first pin"));
    assertThat(state.pinRequested(13).map(ModelControl::version))
        .as("the pin in force, written back if this one fails")
        .contains(15L);
  }

  @Test
  void aVersionBeingPinnedKeepsItsParametersWhileThePinTravels() {
    ModelState state = state("latest");
    for (long v = 1; v <= 20; v++) {
      add(state, v);
    }
    assertThat(state.loadable(13)).isTrue();
    state.pinRequested(13);
    for (long v = 21; v <= 40; v++) {
      add(state, v);
    }
    assertThat(state.loadable(13)).isTrue();
    assertThat(state.loadable(14)).isFalse();
    state.pinSettled(13);
    add(state, 41);
    assertThat(state.loadable(13)).isFalse();
  }

  // ------------------------------------------------------------------ memory and retention

  @Test
  void underPolicyLatestOnlyTheNewestAndTheServingOneKeepTheirParameters() {
    ModelState state = state("latest");
    for (long v = 1; v <= 300; v++) {
      add(state, v); // each a completed one-epoch run: a candidate no gate ever judges
    }
    assertThat(state.held()).isEqualTo(KEEP);
    assertThat(state.loadable(300)).isTrue();
    assertThat(state.versions()).isEqualTo(300);
  }

  @Test
  void underPolicyGatedTheRecentChampionsAndTheWaitingCandidatesAreKept() {
    ModelState state = state("gated");
    for (long v = 1; v <= 200; v++) {
      add(state, v);
      if (v <= 100) {
        promote(state, v);
      }
    }
    // v1..v100 promoted (champion v100), v101..v200 waiting for the gate.
    assertThat(state.loadable(100)).as("champion").isTrue();
    assertThat(state.loadable(91)).as("10th newest promoted").isTrue();
    assertThat(state.loadable(90)).as("11th newest promoted").isFalse();
    assertThat(state.loadable(101)).as("waiting candidate").isTrue();
    assertThat(state.held()).isEqualTo(PROMOTED + 100);
  }

  @Test
  void retentionKeepsTheNewestTheChampionsThePinAndWhatServes() {
    ModelState state =
        new ModelState(
            InferenceConfigs.of(
                "inference.retention.keep-versions", "3",
                "inference.retention.keep-promoted", "1"),
            "r");
    state.caughtUp();
    LongStream.rangeClosed(1, 10).forEach(v -> add(state, v));
    promote(state, 2);
    promote(state, 4);
    apply(state, ModelControl.pin(LeNet5.MODEL_NAME, 1, "x", "pinned"));
    state.served(1);
    assertThat(state.retired(5).stream().map(ModelCatalog.Entry::version))
        .as("8..10 newest, 5 the new champion, 4 the last champion, 1 pinned and serving")
        .containsExactlyInAnyOrder(2L, 3L, 6L, 7L);
    ModelState off =
        new ModelState(InferenceConfigs.of("inference.retention.keep-versions", "0"), "r");
    LongStream.rangeClosed(1, 10).forEach(v -> add(off, v));
    assertThat(off.retired(10)).as("retention off").isEmpty();
  }

  // ------------------------------------------------------------------ helpers

  private static ModelState state(String policy) {
    InferenceConfig config =
        InferenceConfigs.of(
            "inference.policy", policy,
            "inference.keep-versions", String.valueOf(KEEP),
            "inference.retention.keep-promoted", String.valueOf(PROMOTED));
    return new ModelState(config, "test");
  }

  private static ModelState caughtUp(String policy) {
    ModelState state = state(policy);
    state.caughtUp();
    return state;
  }

  private static Optional<Long> loads(ModelState state) {
    return state.nextAction(Optional.empty()) instanceof ModelState.Action.Load l
        ? Optional.of(l.checkpoint().header().modelVersion())
        : Optional.empty();
  }

  private static Optional<Long> gated(ModelState state) {
    return state.nextAction(Optional.empty()) instanceof ModelState.Action.Gate g
        ? Optional.of(g.candidate().header().modelVersion())
        : Optional.empty();
  }

  private static void promote(ModelState state, long v) {
    apply(state, ModelControl.verdict(true, LeNet5.MODEL_NAME, v, null, null, "test", "better"));
  }

  private static void apply(ModelState state, ModelControl record) {
    state.apply(record.key(), record, "test-" + record.key());
  }

  private static void add(ModelState state, long v) {
    byte[] params = {1, 2, 3};
    state.apply(
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
  }
}
