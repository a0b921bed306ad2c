package lenet.webtest;

import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Requests as the operator sends them to endpoints that change state: the service's own API token
 * (read back from the test's configuration, {@code api.token}) and a JSON body.
 */
public final class Operator {

  private Operator() {}

  /** The token the service under test accepts. */
  public static String token() {
    return ConfigProvider.getConfig().getValue("api.token", String.class);
  }

  /** {@code given()} with {@code Authorization: Bearer <token>} and {@code application/json}. */
  public static RequestSpecification operator() {
    return RestAssured.given()
        .header("Authorization", "Bearer " + token())
        .contentType(ContentType.JSON);
  }
}
