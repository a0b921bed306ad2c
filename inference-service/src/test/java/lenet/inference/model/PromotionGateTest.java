package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.Optional;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.ModelControl;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.config.InferenceConfigs;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the promotion gate measures and decides, on the real dev split read from Kafka and real
 * forward passes: the candidate's own accuracy (never its claim), against the champion within the
 * tolerance, the champion's recorded figures reused only for the very same images, and a broken
 * model told apart from a worse one. A Quarkus test only so that it shares the application's class
 * loader, which holds PyTorch's native library once the service has started in this JVM.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class PromotionGateTest {

  private static ServingSlot slot;
  private static PromotionGate gate;

  @BeforeAll
  static void gateSetOnKafka() {
    TestModels.ensureGateSet();
    slot = new ServingSlot(Device.cpu(), 1);
    gate =
        new PromotionGate(
            slot,
            new GateSet(
                KafkaConnection.to(SharedKafka.bootstrapServers()),
                Topics.defaults(),
                Split.DEV,
                0),
            InferenceConfigs.replica("gate-test"));
  }

  @AfterAll
  static void close() {
    slot.close();
  }

  @Test
  void aFirstCandidateIsMeasuredOnTheDevSplitNotTakenAtItsWord() {
    Checkpoint claimsPerfect = TestModels.checkpoint(TestModels.nextVersion(), 1.0);
    GateOutcome o = gate.evaluate(claimsPerfect, null, Optional.empty(), Optional.empty()).get();
    assertThat(o.passed()).isTrue();
    assertThat(o.failureReason()).isNull();
    assertThat(o.gate().split()).isEqualTo("dev");
    assertThat(o.gate().images()).isEqualTo(400);
    assertThat(o.gate().accuracy()).isBetween(0.85, 0.999);
    assertThat(o.reason()).contains("no champion yet");
  }

  @Test
  void aCandidateWorseThanTheChampionBeyondTheToleranceFails() {
    Checkpoint champion = TestModels.checkpoint(TestModels.nextVersion(), 0.9);
    Checkpoint untrained =
        TestModels.checkpoint(TestModels.nextVersion(), 0.99, TestModels.untrainedParameters());
    GateOutcome o =
        gate.evaluate(
                untrained,
                champion.header().modelVersion(),
                Optional.of(champion),
                Optional.empty())
            .get();
    assertThat(o.passed()).isFalse();
    assertThat(o.failureReason()).as("worse, not broken").isNull();
    assertThat(o.gate().championAccuracy()).as("the champion measured here").isGreaterThan(0.85);
    assertThat(o.reason()).contains("worse");
  }

  @Test
  void theChampionsRecordedFiguresCountOnlyForTheSameImages() {
    Checkpoint candidate = TestModels.checkpoint(TestModels.nextVersion(), 0.9);
    double measured =
        gate.evaluate(candidate, null, Optional.empty(), Optional.empty()).get().gate().accuracy();
    String datasetId =
        gate.evaluate(candidate, null, Optional.empty(), Optional.empty()).get().gate().datasetId();
    // The champion's verdict says it scored 100% on these very images: the candidate is worse.
    ModelControl.Gate sameImages =
        new ModelControl.Gate("dev", datasetId, 400, 1.0, true, null, null, 0.001, 1);
    GateOutcome o = gate.evaluate(candidate, 1L, Optional.empty(), Optional.of(sameImages)).get();
    assertThat(o.passed()).isFalse();
    assertThat(o.gate().championAccuracy()).isEqualTo(1.0);
    // Figures on other images do not count: the champion (the same network) is measured again.
    ModelControl.Gate otherImages =
        new ModelControl.Gate("dev", "another-copy", 400, 1.0, true, null, null, 0.001, 1);
    Checkpoint champion = TestModels.checkpoint(TestModels.nextVersion(), 0.9);
    o =
        gate.evaluate(
                candidate,
                champion.header().modelVersion(),
                Optional.of(champion),
                Optional.of(otherImages))
            .get();
    assertThat(o.gate().championAccuracy()).isEqualTo(measured);
    assertThat(o.passed()).as("as good as the champion").isTrue();
  }

  @Test
  void aModelWithNonFiniteOutputsIsBrokenNotJustWorse() {
    Checkpoint nan =
        TestModels.checkpoint(TestModels.nextVersion(), 0.99, TestModels.nanParameters());
    GateOutcome o = gate.evaluate(nan, null, Optional.empty(), Optional.empty()).get();
    assertThat(o.passed()).isFalse();
    assertThat(o.failureReason()).isNotNull();
    assertThat(o.gate().finite()).isFalse();
    assertThat(slot.liveModels()).as("every model the gate loaded is closed").isZero();
  }
}
