package lenet.ingest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import lenet.kafka.SharedKafkaResource;
import lenet.webtest.ApiDocument;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document describes every endpoint of the code and nothing else, and Swagger UI serves
 * it. Shares the other tests' Quarkus start (same resource, no profile).
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class ApiDocumentTest {

  @Test
  void theDocumentDescribesEveryEndpointAndSwaggerUiServesIt() {
    ApiDocument.assertDescribesEveryEndpoint();
    given().get("/q/swagger-ui").then().statusCode(200).body(containsString("swagger-ui"));
  }
}
