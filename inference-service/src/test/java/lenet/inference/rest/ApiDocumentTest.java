package lenet.inference.rest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.model.ModelManager;
import lenet.webtest.ApiDocument;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document describes every endpoint of the code and nothing else, Swagger UI serves it,
 * and its prediction and OIP examples are real requests: each one, sent as it stands, is answered
 * 200 with a prediction.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class ApiDocumentTest {

  /** The media types {@code POST /api/predict} takes, each with at least one example. */
  static final List<String> PREDICT_TYPES =
      List.of(
          "application/json", "image/png", "application/octet-stream", "application/x-mnist-u8");

  @Inject ModelManager models;

  @Test
  void theDocumentDescribesEveryEndpointAndItsExamplesWork() {
    JsonPath document = ApiDocument.assertDescribesEveryEndpoint();
    given().get("/q/swagger-ui").then().statusCode(200).body(containsString("swagger-ui"));

    TestModels.ensureServing(models);
    Map<String, Map<String, Object>> content =
        document.getMap("paths.'/api/predict'.post.requestBody.content");
    assertThat(content).containsKeys(PREDICT_TYPES.toArray(String[]::new));
    int sent = 0;
    for (String type : PREDICT_TYPES) {
      Map<String, Map<String, Object>> examples =
          document.getMap("paths.'/api/predict'.post.requestBody.content.'" + type + "'.examples");
      assertThat(examples).as(type).isNotEmpty();
      for (Map<String, Object> example : examples.values()) {
        given()
            .contentType(type)
            .body(body(example))
            .post("/api/predict")
            .then()
            .statusCode(200)
            .body("digit", notNullValue());
        sent++;
      }
    }
    assertThat(sent).isGreaterThanOrEqualTo(PREDICT_TYPES.size());

    for (String path :
        List.of("/v2/models/{name}/infer", "/v2/models/{name}/versions/{version}/infer")) {
      Map<String, Map<String, Object>> examples =
          document.getMap(
              "paths.'" + path + "'.post.requestBody.content.'application/json'.examples");
      assertThat(examples).as(path).isNotEmpty();
      for (Map<String, Object> example : examples.values()) {
        given()
            .contentType("application/json")
            .body(body(example))
            .post("/v2/models/lenet5/infer")
            .then()
            .statusCode(200)
            .body("outputs[0].shape", equalTo(List.of(1, 10)));
      }
    }
  }

  /** An example's request body: its value as JSON, or the bytes of the file it names. */
  private static byte[] body(Map<String, Object> example) {
    Object external = example.get("externalValue");
    if (external != null) {
      return given().get(external.toString()).then().statusCode(200).extract().asByteArray();
    }
    try {
      return new ObjectMapper().writeValueAsBytes(example.get("value"));
    } catch (JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }
}
