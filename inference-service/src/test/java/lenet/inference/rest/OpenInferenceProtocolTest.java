package lenet.inference.rest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.model.ModelManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Open Inference Protocol v2 REST shapes: health, metadata, FP32 and UINT8 inference, and its
 * errors.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class OpenInferenceProtocolTest {

  @Inject ModelManager models;

  long version;

  @BeforeEach
  void model() {
    version = TestModels.ensureServing(models);
  }

  @Test
  void healthAndMetadata() {
    given().get("/v2/health/live").then().statusCode(200).body("live", equalTo(true));
    given().get("/v2/health/ready").then().statusCode(200).body("ready", equalTo(true));
    given().get("/v2/models/lenet5/ready").then().statusCode(200).body("ready", equalTo(true));
    given().get("/v2/models/lenet5/versions/" + version + "/ready").then().statusCode(200);
    given()
        .get("/v2/models/lenet5/versions/1/ready")
        .then()
        .statusCode(400)
        .body("ready", equalTo(false));
    given()
        .get("/v2/models/lenet5")
        .then()
        .statusCode(200)
        .body("name", equalTo("lenet5"))
        .body("versions", contains(String.valueOf(version)))
        .body("platform", equalTo("pytorch_djl"))
        .body("inputs[0].datatype", equalTo("FP32"))
        .body("inputs[0].shape", contains(-1, 1, 28, 28))
        .body("outputs[0].name", equalTo("probabilities"))
        .body("outputs[0].datatype", equalTo("FP32"))
        .body("outputs[0].shape", contains(-1, 10));
    given()
        .get("/v2/models/lenet5/versions/" + version)
        .then()
        .statusCode(200)
        .body("name", equalTo("lenet5"));
    given()
        .get("/v2/models/resnet")
        .then()
        .statusCode(404)
        .body("error", containsString("'resnet'"));
  }

  @Test
  void fp32BatchOfTwoFlat() {
    List<Float> data = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      for (int p : TestModels.pixels(i)) {
        data.add(p / 255f);
      }
    }
    Map<String, Object> request =
        Map.of(
            "id", "req-42",
            "inputs",
                List.of(
                    Map.of(
                        "name",
                        "input",
                        "datatype",
                        "FP32",
                        "shape",
                        List.of(2, 1, 28, 28),
                        "data",
                        data)),
            "outputs", List.of(Map.of("name", "probabilities")));
    Response r =
        given().contentType("application/json").body(request).post("/v2/models/lenet5/infer");
    r.then()
        .statusCode(200)
        .body("model_name", equalTo("lenet5"))
        .body("model_version", equalTo(String.valueOf(version)))
        .body("id", equalTo("req-42"))
        .body("outputs[0].name", equalTo("probabilities"))
        .body("outputs[0].datatype", equalTo("FP32"))
        .body("outputs[0].shape", contains(2, 10));
    assertRowsAreTheLabels(r.path("outputs[0].data"), 0, 2);
  }

  @Test
  void uint8BatchOfThreeNestedOnTheServingVersion() {
    List<List<List<Integer>>> images = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      int[] p = TestModels.pixels(i);
      List<List<Integer>> rows = new ArrayList<>();
      for (int y = 0; y < 28; y++) {
        List<Integer> row = new ArrayList<>();
        for (int x = 0; x < 28; x++) {
          row.add(p[y * 28 + x]);
        }
        rows.add(row);
      }
      images.add(rows);
    }
    Map<String, Object> request =
        Map.of(
            "inputs",
            List.of(
                Map.of(
                    "name",
                    "input",
                    "datatype",
                    "UINT8",
                    "shape",
                    List.of(3, 28, 28),
                    "data",
                    images)));
    Response r =
        given()
            .contentType("application/json")
            .body(request)
            .post("/v2/models/lenet5/versions/" + version + "/infer");
    r.then()
        .statusCode(200)
        .body("outputs[0].shape", contains(3, 10))
        .body("model_version", equalTo(String.valueOf(version)));
    assertThat(r.<String>path("id")).isNotBlank();
    assertRowsAreTheLabels(r.path("outputs[0].data"), 0, 3);

    given()
        .contentType("application/json")
        .body(request)
        .post("/v2/models/lenet5/versions/1/infer")
        .then()
        .statusCode(404)
        .body("error", containsString("version 1 is not loaded"));
  }

  @Test
  void errorsAre4xxWithAnErrorField() {
    String ok784 = "[" + "0,".repeat(783) + "0]";
    Map<String, Integer> cases =
        Map.of(
            "{",
            400,
            "{\"inputs\": []}",
            400,
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[1,1,28,28],\"data\":"
                + ok784
                + "}]}",
            400,
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,28,28],\"data\":"
                + ok784
                + "}]}",
            400,
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[2,1,28,28],\"data\":"
                + ok784
                + "}]}",
            400,
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,1,28,28],\"data\":"
                + ok784.replaceFirst("0", "2.5")
                + "}]}",
            400,
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"UINT8\",\"shape\":[1,28,28],\"data\":"
                + ok784.replaceFirst("0", "256")
                + "}]}",
            400,
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"UINT8\",\"shape\":[1,28,28],\"data\":"
                + ok784
                + "}],\"outputs\":[{\"name\":\"logits\"}]}",
            400);
    cases.forEach(
        (body, status) ->
            given()
                .contentType("application/json")
                .body(body)
                .post("/v2/models/lenet5/infer")
                .then()
                .statusCode(status)
                .body("error", org.hamcrest.Matchers.notNullValue()));
    given()
        .contentType("application/json")
        .body("{}")
        .post("/v2/models/mnist/infer")
        .then()
        .statusCode(404)
        .body("error", containsString("'mnist'"));
  }

  private static void assertRowsAreTheLabels(List<Float> flat, int first, int n) {
    assertThat(flat).hasSize(n * 10);
    for (int i = 0; i < n; i++) {
      List<Float> row = flat.subList(i * 10, i * 10 + 10);
      assertThat(row.stream().mapToDouble(Float::doubleValue).sum())
          .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
      int best = 0;
      for (int k = 1; k < 10; k++) {
        best = row.get(k) > row.get(best) ? k : best;
      }
      assertThat(best).as("image %d", first + i).isEqualTo(TestModels.label(first + i));
    }
  }
}
