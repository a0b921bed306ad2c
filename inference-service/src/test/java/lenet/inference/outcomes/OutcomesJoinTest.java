package lenet.inference.outcomes;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import lenet.contract.topics.Topic;
import lenet.contract.wire.Label;
import lenet.contract.wire.Outcome;
import lenet.contract.wire.Prediction;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.model.ModelManager;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * The outcomes join on the real broker, inside the running service: image events scored from Kafka,
 * then labels for them written by a plain producer, give one outcome each on {@code
 * digits.outcomes} with the prediction's digit and model version and the label's digit.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class OutcomesJoinTest {

  @Inject ModelManager models;

  @Test
  void labelledPredictionsBecomeOneOutcomeEach() throws Exception {
    long version = TestModels.ensureServing(models);
    String run = "outcome-" + UUID.randomUUID();
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      for (int i = 0; i < 5; i++) {
        producer
            .send(
                new ProducerRecord<>(
                    Topic.DIGITS_IMAGES.defaultName(),
                    (run + "-" + i).getBytes(StandardCharsets.UTF_8),
                    TestModels.pixelsJson(null, i).getBytes(StandardCharsets.UTF_8)))
            .get();
      }
    }
    Map<String, List<ConsumerRecord<byte[], byte[]>>> predictions =
        TestModels.readUntil(
            Topic.DIGITS_PREDICTIONS.defaultName(),
            k -> k.startsWith(run),
            m -> m.size() == 5,
            Duration.ofSeconds(60));
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      for (int i = 0; i < 5; i++) {
        String id = run + "-" + i;
        producer
            .send(
                new ProducerRecord<>(
                    Topic.DIGITS_LABELS.defaultName(),
                    id.getBytes(StandardCharsets.UTF_8),
                    new Label(id, i, "test", System.currentTimeMillis()).encode()))
            .get();
      }
    }
    Map<String, List<ConsumerRecord<byte[], byte[]>>> outcomes =
        TestModels.readUntil(
            Topic.DIGITS_OUTCOMES.defaultName(),
            k -> k.startsWith(run),
            m -> m.size() == 5,
            Duration.ofSeconds(90));
    for (int i = 0; i < 5; i++) {
      String id = run + "-" + i;
      assertThat(outcomes.get(id)).as("outcomes of " + id).hasSize(1);
      Outcome o = Outcome.decode(outcomes.get(id).get(0).value());
      Prediction p = Prediction.decode(predictions.get(id).get(0).value());
      assertThat(o)
          .isEqualTo(new Outcome(id, p.digit(), i, p.modelVersion(), p.confidence(), "test"));
      assertThat(o.modelVersion()).isEqualTo(version);
    }
    // Every replica's figures: this version has at least these five labelled outcomes.
    org.awaitility.Awaitility.await("live accuracy of v" + version)
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              var versions =
                  io.restassured.RestAssured.get("/api/outcomes")
                      .then()
                      .statusCode(200)
                      .extract()
                      .jsonPath()
                      .getList("versions.findAll { it.modelVersion == " + version + "L }.labelled");
              return !versions.isEmpty() && ((Number) versions.get(0)).longValue() >= 5;
            });
    // ... and /api/models shows them beside the lifecycle's view.
    var models = io.restassured.RestAssured.get("/api/models").then().statusCode(200).extract();
    assertThat(models.jsonPath().getLong("serving")).isEqualTo(version);
    assertThat(models.jsonPath().getLong("live.'" + version + "'.labelled"))
        .isGreaterThanOrEqualTo(5);
  }

  /**
   * An image scored over HTTP is on {@code digits.predictions} too, with its pixels, so a label for
   * its id (sent to {@code POST /api/feedback}) joins into an outcome like a Kafka-scored one.
   */
  @Test
  void httpPredictionsAreLoggedAndJoinTheirLabels() throws Exception {
    long version = TestModels.ensureServing(models);
    String id = "http-" + UUID.randomUUID();
    io.restassured.RestAssured.given()
        .contentType("application/json")
        .body(TestModels.pixelsJson(id, 3))
        .post("/api/predict")
        .then()
        .statusCode(200);
    Map<String, List<ConsumerRecord<byte[], byte[]>>> logged =
        TestModels.readUntil(
            Topic.DIGITS_PREDICTIONS.defaultName(),
            id::equals,
            m -> m.size() == 1,
            Duration.ofSeconds(30));
    assertThat(logged.get(id)).as("HTTP prediction on the topic").hasSize(1);
    byte[] value = logged.get(id).get(0).value();
    var node = lenet.contract.wire.Json.MAPPER.readTree(value);
    assertThat(node.get("source").asText()).isEqualTo("http");
    assertThat(node.get("pixels")).hasSize(784);
    int[] sent = TestModels.pixels(3);
    for (int i = 0; i < sent.length; i++) {
      assertThat(node.get("pixels").get(i).asInt()).as("pixel " + i).isEqualTo(sent[i]);
    }
    Prediction p = Prediction.decode(value);
    assertThat(p.modelVersion()).isEqualTo(version);

    io.restassured.RestAssured.given()
        .contentType("application/json")
        .body("{\"id\": \"" + id + "\", \"digit\": 3}")
        .post("/api/feedback")
        .then()
        .statusCode(202);
    Map<String, List<ConsumerRecord<byte[], byte[]>>> outcomes =
        TestModels.readUntil(
            Topic.DIGITS_OUTCOMES.defaultName(),
            id::equals,
            m -> m.size() == 1,
            Duration.ofSeconds(90));
    assertThat(Outcome.decode(outcomes.get(id).get(0).value()))
        .isEqualTo(new Outcome(id, p.digit(), 3, version, p.confidence(), "http"));
  }
}
