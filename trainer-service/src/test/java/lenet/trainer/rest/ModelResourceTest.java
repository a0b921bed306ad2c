package lenet.trainer.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import lenet.kafka.SharedKafkaResource;
import org.junit.jupiter.api.Test;

/** {@code GET /api/model}: the network the trainer builds, with the tutorial's counts. */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class ModelResourceTest {

  @Test
  void servesTheNetworkSummaryWithTheTutorialsParameterCounts() {
    given()
        .get("/api/model")
        .then()
        .statusCode(200)
        .body("totalParameters", equalTo(62_698))
        .body("trainableParameters", equalTo(62_202))
        .body("nonTrainableParameters", equalTo(496))
        .body("layers", hasSize(18))
        .body("device", equalTo("cpu()"));
  }
}
