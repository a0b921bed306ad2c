package lenet.inference.feedback;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Label;
import lenet.inference.GateSetResource;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import lenet.support.kafka.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /api/feedback} on the real broker: a label is on {@code digits.labels} under the
 * image's id before the sender hears 202; what is not a label is refused with its reason and writes
 * nothing, and so is a source other than {@code http} and {@code page} (the page's own labels:
 * {@code InferencePageTest}); a client past its allowance hears 429 with {@code Retry-After}. Every
 * answer is counted.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class FeedbackResourceTest {

  @Inject org.eclipse.microprofile.config.Config config;

  @Test
  void labelsAreWrittenBadOnesRefusedAndAFloodBounded() {
    String id = "fb-" + UUID.randomUUID();
    given()
        .contentType("application/json")
        .body("{\"id\":\"" + id + "\",\"digit\":7}")
        .post("/api/feedback")
        .then()
        .statusCode(202)
        .body("id", equalTo(id))
        .body("digit", equalTo(7));
    Label written = labels().get(id);
    assertThat(written).isNotNull();
    assertThat(written.digit()).isEqualTo(7);
    assertThat(written.source()).isEqualTo("http");
    assertThat(written.time()).isPositive();

    String bad = "fb-bad-" + UUID.randomUUID();
    given()
        .contentType("application/json")
        .body("{\"id\":\"" + bad + "\",\"digit\":12}")
        .post("/api/feedback")
        .then()
        .statusCode(400)
        .body("reason", equalTo("VALUE_OUT_OF_RANGE"));
    given()
        .contentType("application/json")
        .body("{\"id\":\"" + bad + "\",\"digit\":1,\"extra\":true}")
        .post("/api/feedback")
        .then()
        .statusCode(400)
        .body("reason", equalTo("UNKNOWN_FIELD"));
    given().contentType("text/plain").body("7").post("/api/feedback").then().statusCode(415);
    for (String source : List.of("kafka", "trainer", "PAGE", "page,http")) {
      given()
          .contentType("application/json")
          .queryParam("source", source)
          .body("{\"id\":\"" + bad + "\",\"digit\":1}")
          .post("/api/feedback")
          .then()
          .statusCode(400)
          .body("reason", equalTo("INVALID_VALUE"))
          .body("error", containsString("'source' must be 'http' or 'page'"));
    }
    given()
        .contentType("application/json")
        .body("{\"id\":\"" + "x".repeat(5000) + "\",\"digit\":1}")
        .post("/api/feedback")
        .then()
        .statusCode(413)
        .body("reason", equalTo("TOO_LARGE"));
    assertThat(labels()).doesNotContainKey(bad);

    // A flood from one client: the burst (20 by default) passes, then 429 until it refills.
    List<Integer> statuses = new ArrayList<>();
    io.restassured.response.Response refused = null;
    for (int i = 0; i < 40; i++) {
      io.restassured.response.Response r =
          given()
              .contentType("application/json")
              .body("{\"id\":\"fb-flood-" + i + "\",\"digit\":1}")
              .post("/api/feedback");
      statuses.add(r.statusCode());
      if (r.statusCode() == 429) {
        refused = r;
      }
    }
    assertThat(statuses).contains(202, 429).containsOnly(202, 429);
    assertThat(statuses.subList(0, 20)).as("the burst").containsOnly(202);
    assertThat(refused.header("Retry-After")).isNotBlank();
    assertThat(refused.jsonPath().getString("reason")).isEqualTo("RATE_LIMITED");
    given()
        .get("/q/metrics")
        .then()
        .body(containsString("inference_feedback_total{outcome=\"rate_limited\""))
        .body(containsString("inference_feedback_total{outcome=\"invalid\""));
  }

  private Map<String, Label> labels() {
    Map<String, Label> out = new TreeMap<>();
    for (ConsumerRecord<String, byte[]> r :
        TopicReader.of(KafkaConnection.to(SharedKafka.bootstrapServers()))
            .toEnd(Topics.from(config).name(Topic.DIGITS_LABELS))) {
      out.put(r.key(), Label.decode(r.value()));
    }
    return out;
  }
}
