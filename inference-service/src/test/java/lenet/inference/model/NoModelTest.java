package lenet.inference.model;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.Topic;
import lenet.contract.wire.Prediction;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The service before the trainer ever published: HTTP answers 503, readiness is DOWN, and image
 * events wait (neither dropped nor dead-lettered) until the first checkpoint arrives, then each
 * gets its prediction. Runs first.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
@Order(1)
class NoModelTest {

  @Inject ModelManager models;

  @Test
  void answers503AndHoldsEventsUntilTheFirstCheckpointServes() throws Exception {
    assertThat(models.serving())
        .as("this test must run before any checkpoint is published")
        .isEmpty();

    given().get("/q/health/ready").then().statusCode(503).body("status", equalTo("DOWN"));
    given()
        .contentType("application/json")
        .body(TestModels.pixelsJson("x", 0))
        .post("/api/predict")
        .then()
        .statusCode(503)
        .header("Retry-After", "5")
        .body("error", containsString("no model serves yet"));
    given().get("/v2/health/live").then().statusCode(200).body("live", equalTo(true));
    given().get("/v2/health/ready").then().statusCode(400).body("ready", equalTo(false));
    given().get("/v2/models/lenet5/ready").then().statusCode(400).body("ready", equalTo(false));
    given()
        .contentType("application/json")
        .body(
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"UINT8\",\"shape\":[1,28,28],\"data\":"
                + TestModels.pixelsJson(null, 0).replace("{\"pixels\":", "").replace("]}", "]")
                + "}]}")
        .post("/v2/models/lenet5/infer")
        .then()
        .statusCode(503)
        .body("error", containsString("no model"));
    given()
        .get("/api/models")
        .then()
        .statusCode(200)
        .body("serving", equalTo(null))
        .body("mode", equalTo("FOLLOWING"));

    String id = "early-" + UUID.randomUUID();
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      producer
          .send(
              new ProducerRecord<>(
                  Topic.DIGITS_IMAGES.defaultName(),
                  id.getBytes(StandardCharsets.UTF_8),
                  TestModels.pixelsJson(null, 0).getBytes(StandardCharsets.UTF_8)))
          .get(30, TimeUnit.SECONDS);
    }
    // No model: nothing may come out for this event, on either topic.
    var early =
        TestModels.readUntil(
            Topic.DIGITS_PREDICTIONS.defaultName(), id::equals, m -> false, Duration.ofSeconds(3));
    assertThat(early).isEmpty();

    long version = TestModels.publishAndAwait(models);
    given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));

    var predictions =
        TestModels.readUntil(
            Topic.DIGITS_PREDICTIONS.defaultName(),
            id::equals,
            m -> m.containsKey(id),
            Duration.ofSeconds(60));
    List<ConsumerRecord<byte[], byte[]>> mine = predictions.get(id);
    assertThat(mine).as("exactly one prediction for the event that waited").hasSize(1);
    Prediction p = Prediction.decode(mine.get(0).value());
    assertThat(p.id()).isEqualTo(id);
    assertThat(p.modelVersion()).isEqualTo(version);
    assertThat(p.digit()).isEqualTo(TestModels.label(0));
    var dead =
        TestModels.readUntil(
            Topic.DIGITS_IMAGES_DLQ.defaultName(), id::equals, m -> false, Duration.ofSeconds(1));
    assertThat(dead).as("no dead letter for a good event").isEmpty();
  }
}
