package lenet.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.WireFormatException;
import org.junit.jupiter.api.Test;

/** The control record and the per-version checkpoint keys: round trips, keys, and garbage. */
class ModelControlFormatTest {

  @Test
  void verdictsRoundTripWithWhatTheGateMeasuredAndAreKeyedPerVersionAndKind() {
    ModelControl.Gate gate =
        new ModelControl.Gate("dev", "abc", 12_000, 0.9871, true, 11L, 0.9862, 0.001, 812);
    ModelControl promote =
        ModelControl.verdict(
            true, "lenet5", 12, gate, new ModelControl.Shadow(1000, 0.998, 0.4), "a/1", "better");
    ModelControl back = ModelControl.decode(promote.encode());
    assertThat(back).isEqualTo(promote);
    assertThat(back.key()).isEqualTo("lenet5/v12/promote");
    ModelControl reject = ModelControl.verdict(false, "lenet5", 12, gate, null, "b/2", "worse");
    assertThat(reject.key()).isEqualTo("lenet5/v12/reject");
    assertThat(ModelControl.decode(reject.encode()).shadow()).isNull();
  }

  @Test
  void liveDecisionsRoundTripWithTheirFiguresAndAreKeyedPerVersionAndKind() {
    ModelControl.Tally champion = new ModelControl.Tally(11, 1000, 950, 900.5);
    ModelControl.Tally canary = new ModelControl.Tally(12, 0, 0, 0);
    ModelControl record =
        ModelControl.live(
            ModelControl.Type.CANARY,
            "lenet5",
            12,
            null,
            new ModelControl.Live(
                null, null, null, 0, 0, 0.95, 0.01, 0.1, java.util.List.of(champion, canary)),
            "a/1",
            "canary");
    ModelControl back = ModelControl.decode(record.encode());
    assertThat(back).isEqualTo(record);
    assertThat(back.live().start()).containsExactly(champion, canary);
    assertThat(back.key()).isEqualTo("lenet5/v12/canary");
    assertThat(
            ModelControl.live(ModelControl.Type.ROLLBACK, "lenet5", 12, null, null, "a", "r").key())
        .isEqualTo("lenet5/v12/rollback");
    assertThat(ModelControl.live(ModelControl.Type.DRIFT, "lenet5", 12, null, null, "a", "r").key())
        .isEqualTo("lenet5/v12/drift");
    assertThat(champion.since(new ModelControl.Tally(11, 400, 390, 380.5)))
        .isEqualTo(new ModelControl.Tally(11, 600, 560, 520));
  }

  @Test
  void pinAndFollowShareOneKeySoTheLastOneHolds() {
    ModelControl pin = ModelControl.pin("lenet5", 7, "ops", "rollback");
    ModelControl follow = ModelControl.follow("lenet5", "ops", "back");
    assertThat(pin.key()).isEqualTo("lenet5/pin").isEqualTo(follow.key());
    assertThat(ModelControl.decode(pin.encode()).version()).isEqualTo(7L);
    assertThat(ModelControl.decode(follow.encode()).version()).isNull();
  }

  @Test
  void garbageIsRefusedWithAReason() {
    for (String bad :
        new String[] {
          "",
          "not json",
          "[]",
          "{}",
          "{\"type\":\"NUKE\",\"model\":\"lenet5\",\"version\":1}",
          "{\"type\":\"PIN\",\"model\":\"lenet5\"}",
          "{\"type\":\"PROMOTE\",\"version\":3}"
        }) {
      assertThatThrownBy(() -> ModelControl.decode(bad.getBytes(StandardCharsets.UTF_8)))
          .as(bad)
          .isInstanceOf(WireFormatException.class);
    }
  }

  @Test
  void checkpointKeysCarryTheVersion() {
    assertThat(Checkpoint.key("lenet5", 42)).isEqualTo("lenet5/v42");
    assertThat(Checkpoint.versionOfKey("lenet5/v42")).isEqualTo(42);
    assertThat(Checkpoint.versionOfKey("lenet5")).isEqualTo(-1);
    assertThat(Checkpoint.versionOfKey("lenet5/vx")).isEqualTo(-1);
    assertThat(Checkpoint.keyBelongsTo("lenet5/v42", "lenet5")).isTrue();
    assertThat(Checkpoint.keyBelongsTo("lenet5", "lenet5"))
        .as("builds before per-version keys")
        .isTrue();
    assertThat(Checkpoint.keyBelongsTo("lenet5x/v1", "lenet5")).isFalse();
    assertThat(Checkpoint.keyBelongsTo("resnet/v1", "lenet5")).isFalse();
  }
}
