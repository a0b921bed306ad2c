package lenet.inference.model;

import static io.restassured.RestAssured.given;
import static lenet.webtest.Operator.operator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import lenet.contract.topics.Topic;
import lenet.contract.wire.Checkpoint;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.model.LeNet5;
import org.junit.jupiter.api.Test;

/**
 * Corrupt, incompatible and numerically broken checkpoints are each rejected with a reason and a
 * counter, while the serving model goes on answering.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class CheckpointRejectionTest {

  @Inject ModelManager models;
  @Inject MeterRegistry registry;

  @Test
  void badCheckpointsAreRejectedAndTheServingModelStays() {
    long serving = TestModels.ensureServing(models);
    double before = rejected();
    String topic = Topic.MODEL_CHECKPOINTS.defaultName();

    byte[] flipped = TestModels.checkpoint(TestModels.nextVersion(), 0.99).encode();
    flipped[flipped.length - 100] ^=
        0x55; // one bit pattern in the parameters: the SHA-256 no longer matches
    TestModels.publishCheckpoint(topic, flipped);
    TestModels.publishCheckpoint(
        topic, Arrays.copyOf(TestModels.checkpoint(TestModels.nextVersion(), 0.99).encode(), 500));
    TestModels.publishCheckpoint(topic, "not a checkpoint at all".getBytes());
    Checkpoint good = TestModels.checkpoint(TestModels.nextVersion(), 0.99);
    TestModels.publishCheckpoint(
        new Checkpoint(
            withHeader(good.header(), "resnet-18", LeNet5.TOTAL_PARAMETERS), good.parameters()));
    Checkpoint other = TestModels.checkpoint(TestModels.nextVersion(), 0.99);
    TestModels.publishCheckpoint(
        new Checkpoint(
            withHeader(other.header(), LeNet5.ARCHITECTURE_ID, 1000), other.parameters()));
    // Well-formed and the right shape, but its weights are NaN: only the warm-up pass can tell.
    long nanVersion = TestModels.nextVersion();
    TestModels.publishCheckpoint(
        TestModels.checkpoint(nanVersion, 0.99, TestModels.nanParameters()));

    await("six rejections").atMost(Duration.ofSeconds(60)).until(() -> rejected() >= before + 6);
    assertThat(rejected()).isEqualTo(before + 6);
    assertThat(models.serving().orElseThrow().modelVersion()).isEqualTo(serving);
    given()
        .contentType("application/json")
        .body(TestModels.pixelsJson("still", 0))
        .post("/api/predict")
        .then()
        .statusCode(200)
        .body("modelVersion", equalTo(serving))
        .body("digit", equalTo(TestModels.label(0)));

    ModelView view = models.view();
    assertThat(view.serving()).isEqualTo(serving);
    ModelView.Version nan =
        view.versions().stream().filter(v -> v.version() == nanVersion).findFirst().orElseThrow();
    assertThat(nan.activatable()).isFalse();
    assertThat(nan.failure()).contains("non-finite");
    List<String> reasons =
        view.rejected().stream().limit(6).map(ModelView.Rejection::reason).toList();
    assertThat(reasons).contains("BAD_BINARY_FORMAT", "INVALID_VALUE");
    assertThat(view.rejected().stream().limit(6).map(ModelView.Rejection::message))
        .anyMatch(m -> m.contains("fails its SHA-256 check"))
        .anyMatch(m -> m.contains("'resnet-18'"))
        .anyMatch(m -> m.contains("declares 1000 parameters"));
    operator().post("/api/models/" + nanVersion + "/activate").then().statusCode(409);
    assertThat(given().get("/q/metrics").asString())
        .contains("inference_checkpoints_rejected_total{reason=\"BAD_BINARY_FORMAT\"}");
  }

  private double rejected() {
    return registry.find("inference.checkpoints.rejected").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }

  private static Checkpoint.Header withHeader(
      Checkpoint.Header h, String architecture, long parameters) {
    return h.toBuilder().architectureId(architecture).parameterCount(parameters).build();
  }
}
