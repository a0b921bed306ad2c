package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import lenet.contract.wire.ModelControl.Tally;
import org.junit.jupiter.api.Test;

/** The tests behind the live decisions, on tallies whose answers are known. */
class LiveRulesTest {

  @Test
  void normalQuantilesAreTheTextbookOnes() {
    assertThat(LiveRules.normalQuantile(0.95)).isCloseTo(1.6449, within(1e-3));
    assertThat(LiveRules.normalQuantile(0.975)).isCloseTo(1.9600, within(1e-3));
    assertThat(LiveRules.normalQuantile(0.99)).isCloseTo(2.3263, within(1e-3));
  }

  @Test
  void aCanaryWaitsForItsMinimumThenPromotesWhenNotWorseAndDropsWhenWorse() {
    Tally champion = tally(1, 400, 380); // 95%
    assertThat(LiveRules.canary(tally(2, 40, 40), champion, 0.95, 0.01, 50))
        .as("too few labelled")
        .isEqualTo(LiveRules.Call.WAIT);
    assertThat(LiveRules.canary(tally(2, 400, 388), champion, 0.95, 0.01, 50))
        .as("97% against 95%")
        .isEqualTo(LiveRules.Call.PROMOTE);
    assertThat(LiveRules.canary(tally(2, 400, 300), champion, 0.95, 0.01, 50))
        .as("75% against 95%")
        .isEqualTo(LiveRules.Call.DROP);
    assertThat(LiveRules.canary(tally(2, 60, 56), tally(1, 60, 57), 0.95, 0.01, 50))
        .as("93% against 95% on 60 each: not known yet")
        .isEqualTo(LiveRules.Call.WAIT);
  }

  @Test
  void aChampionIsRolledBackOnlyWhenClearlyWorseThanTheOneItReplaced() {
    Tally replaced = tally(1, 300, 285); // 95%
    assertThat(LiveRules.rollback(tally(2, 300, 240), replaced, 0.95, 0.01, 50)).isTrue();
    assertThat(LiveRules.rollback(tally(2, 300, 282), replaced, 0.95, 0.01, 50)).isFalse();
    assertThat(LiveRules.rollback(tally(2, 20, 0), replaced, 0.95, 0.01, 50))
        .as("below the minimum")
        .isFalse();
  }

  @Test
  void driftIsLiveAccuracyClearlyBelowTheGates() {
    assertThat(LiveRules.drifted(tally(1, 300, 210), 0.98, 0.95, 0.05, 50)).isTrue();
    assertThat(LiveRules.drifted(tally(1, 300, 285), 0.98, 0.95, 0.05, 50)).isFalse();
    assertThat(LiveRules.drifted(tally(1, 10, 0), 0.98, 0.95, 0.05, 50)).isFalse();
  }

  @Test
  void aChampionLessSureThanAtItsGateHasDrifted() {
    assertThat(LiveRules.lessSure(new Tally(1, 300, 290, 240), 0.97, 0.05, 50))
        .as("mean confidence 0.80 against 0.97")
        .isTrue();
    assertThat(LiveRules.lessSure(new Tally(1, 300, 290, 285), 0.97, 0.05, 50)).isFalse();
    assertThat(LiveRules.lessSure(new Tally(1, 10, 10, 1), 0.97, 0.05, 50)).isFalse();
  }

  private static Tally tally(long version, long labelled, long correct) {
    return new Tally(version, labelled, correct, labelled * 0.9);
  }
}
