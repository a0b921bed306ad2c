package lenet.inference.model;

import static io.restassured.RestAssured.given;
import static lenet.webtest.Operator.operator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import org.junit.jupiter.api.Test;

/**
 * Rollback by pinning an older version, new checkpoints listed but not served while pinned, and
 * back to following.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class ModelPinTest {

  @Inject ModelManager models;

  @Test
  void pinsAnOlderVersionThenFollowsThePolicyAgain() throws Exception {
    TestModels.ensureServing(models);
    long older = TestModels.publishAndAwait(models);
    long newer = TestModels.publishAndAwait(models);

    operator()
        .post("/api/models/" + older + "/activate")
        .then()
        .statusCode(200)
        .body("mode", equalTo("PINNED"))
        .body("pinned", equalTo(older))
        .body("serving", equalTo(older))
        .body("policy", equalTo("gated"));
    predictsWith(older);

    long newest = TestModels.nextVersion();
    TestModels.publishCheckpoint(TestModels.checkpoint(newest, 0.99));
    await("the gate promotes v" + newest + " while the pin holds")
        .atMost(Duration.ofSeconds(60))
        .until(() -> models.champion().filter(v -> v == newest).isPresent());
    models.converge().get();
    assertThat(models.serving().orElseThrow().modelVersion())
        .as("pinned: the new champion must not serve")
        .isEqualTo(older);
    ModelView view = models.view();
    assertThat(view.versions())
        .filteredOn(ModelView.Version::serving)
        .extracting(ModelView.Version::version)
        .containsExactly(older);
    assertThat(view.versions())
        .filteredOn(ModelView.Version::selectedByPolicy)
        .extracting(ModelView.Version::version)
        .containsExactly(newest);
    assertThat(view.versions()).extracting(ModelView.Version::version).contains(newer, newest);
    given()
        .get("/api/models")
        .then()
        .statusCode(200)
        .body("versions[0].version", equalTo(newest))
        .body("versions[0].devAccuracy", equalTo(0.99f));

    operator()
        .post("/api/models/424242/activate")
        .then()
        .statusCode(404)
        .body("error", containsString("424242 is unknown"));
    operator().post("/api/models/abc/activate").then().statusCode(404);

    operator()
        .post("/api/models/follow")
        .then()
        .statusCode(200)
        .body("mode", equalTo("FOLLOWING"))
        .body("serving", equalTo(newest))
        .body("pinned", equalTo(null));
    predictsWith(newest);
  }

  private static void predictsWith(long version) {
    given()
        .contentType("application/json")
        .body(TestModels.pixelsJson(null, 3))
        .post("/api/predict")
        .then()
        .statusCode(200)
        .body("modelVersion", equalTo(version))
        .body("digit", equalTo(TestModels.label(3)));
  }
}
