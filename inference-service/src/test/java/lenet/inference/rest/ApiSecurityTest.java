package lenet.inference.rest;

import static io.restassured.RestAssured.given;
import static lenet.webtest.Operator.operator;
import static lenet.webtest.Operator.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URL;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.model.ModelManager;
import lenet.inference.model.ModelView;
import org.junit.jupiter.api.Test;

/**
 * Endpoints that change which model serves need the API token and a JSON request from this
 * service's own pages; without, they answer 401/403/415 with a reason and change nothing. Reads and
 * predictions stay open, even with a stale token.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class ApiSecurityTest {

  @Inject ModelManager models;

  @TestHTTPResource("/")
  URL root;

  @Test
  void mutatingEndpointsRefuseWhatIsNotTheOperatorAndChangeNothing() throws Exception {
    TestModels.ensureServing(models);
    long version = TestModels.publishAndAwait(models);
    ModelView before = models.view();

    for (String path :
        new String[] {"/api/models/" + version + "/activate", "/api/models/follow"}) {
      given()
          .contentType("application/json")
          .post(path)
          .then()
          .statusCode(401)
          .header("WWW-Authenticate", startsWith("Bearer"))
          .body("reason", equalTo("NO_TOKEN"))
          .body("error", containsString("Authorization: Bearer"));
      given()
          .header("Authorization", "Bearer not-the-token-of-this-service")
          .contentType("application/json")
          .post(path)
          .then()
          .statusCode(401)
          .body("reason", equalTo("BAD_TOKEN"));
      // A cross-site form post: a form's encoding, another site's Origin, no token (a browser
      // never adds one): the token check refuses it first.
      given()
          .contentType("application/x-www-form-urlencoded")
          .header("Origin", "http://evil.example")
          .header("Sec-Fetch-Site", "cross-site")
          .formParam("x", "1")
          .post(path)
          .then()
          .statusCode(401)
          .body("reason", equalTo("NO_TOKEN"));
      // Even with the token, neither a form encoding nor another site's page gets through.
      given()
          .header("Authorization", "Bearer " + token())
          .contentType("application/x-www-form-urlencoded")
          .header("Sec-Fetch-Site", "cross-site")
          .formParam("x", "1")
          .post(path)
          .then()
          .statusCode(403)
          .body("reason", equalTo("FOREIGN_ORIGIN"));
      given()
          .header("Authorization", "Bearer " + token())
          .contentType("text/plain")
          .body("{}")
          .post(path)
          .then()
          .statusCode(415)
          .body("reason", equalTo("NOT_JSON"));
      operator()
          .header("Origin", "http://evil.example")
          .post(path)
          .then()
          .statusCode(403)
          .body("error", containsString("http://evil.example"));
    }
    assertThat(models.view().pinned()).isEqualTo(before.pinned());
    assertThat(models.view().mode()).isEqualTo(before.mode());

    // The service's own page (same origin) with the token: served.
    String own = "http://" + root.getHost() + ":" + root.getPort();
    operator()
        .header("Origin", own)
        .post("/api/models/" + version + "/activate")
        .then()
        .statusCode(200)
        .body("pinned", equalTo(version));
    operator().post("/api/models/follow").then().statusCode(200).body("mode", equalTo("FOLLOWING"));

    // Reads and predictions need no token, and a stale one does not fail them.
    given().get("/api/models").then().statusCode(200);
    given()
        .header("Authorization", "Bearer stale-token-from-yesterday")
        .contentType("application/json")
        .body(TestModels.pixelsJson(null, 3))
        .post("/api/predict")
        .then()
        .statusCode(200);
    assertThat(given().get("/q/metrics").asString())
        .contains("api_refused_requests_total{reason=\"NO_TOKEN\"}")
        .contains("api_refused_requests_total{reason=\"BAD_TOKEN\"}")
        .contains("api_refused_requests_total{reason=\"FOREIGN_ORIGIN\"}")
        .contains("api_refused_requests_total{reason=\"NOT_JSON\"}");
  }
}
