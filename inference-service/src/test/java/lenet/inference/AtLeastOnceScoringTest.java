package lenet.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import lenet.inference.model.ModelManager;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;

/**
 * The documented alternative to exactly-once, {@code inference.kafka.delivery=at-least-once}, on
 * topics and a group of its own: every event answered (here, with no fault, exactly once) and the
 * health group says which delivery runs.
 */
@QuarkusTest
@TestProfile(AtLeastOnceScoringTest.AtLeastOnce.class)
@QuarkusTestResource(GateSetResource.class)
class AtLeastOnceScoringTest {

  static final String IMAGES = "alo.images";
  static final String PREDICTIONS = "alo.predictions";
  static final String DEAD_LETTERS = "alo.images.dlq";

  public static class AtLeastOnce implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "inference.kafka.delivery", "at-least-once",
          "inference.kafka.group-id", "alo-test",
          "topics.digits-images", IMAGES,
          "topics.digits-predictions", PREDICTIONS,
          "topics.digits-images-dlq", DEAD_LETTERS);
    }
  }

  @Inject ModelManager models;

  @Test
  void everyEventIsAnsweredOnceWithoutTransactions() throws Exception {
    TestModels.ensureServing(models);
    String run = "alo-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    List<Future<RecordMetadata>> acks = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      for (int i = 0; i < 50; i++) {
        acks.add(
            producer.send(
                new ProducerRecord<>(
                    IMAGES,
                    (run + i).getBytes(StandardCharsets.UTF_8),
                    TestModels.pixelsJson(null, i % 10).getBytes(StandardCharsets.UTF_8))));
      }
      acks.add(
          producer.send(
              new ProducerRecord<>(
                  IMAGES,
                  (run + "bad").getBytes(StandardCharsets.UTF_8),
                  "{\"pixels\": [1".getBytes(StandardCharsets.UTF_8))));
      for (Future<RecordMetadata> ack : acks) {
        ack.get(30, TimeUnit.SECONDS);
      }
    }
    var predictions =
        TestModels.readUntil(
            PREDICTIONS, k -> k.startsWith(run), m -> m.size() >= 50, Duration.ofSeconds(60));
    assertThat(predictions).hasSize(50);
    predictions.values().forEach(records -> assertThat(records).hasSize(1));
    var dead =
        TestModels.readUntil(
            DEAD_LETTERS, k -> k.startsWith(run), m -> m.size() >= 1, Duration.ofSeconds(60));
    assertThat(dead.keySet()).containsExactly(run + "bad");
    io.restassured.RestAssured.given()
        .get("/q/health/group/kafka")
        .then()
        .statusCode(200)
        .body("checks[0].data.delivery", org.hamcrest.Matchers.equalTo("AT_LEAST_ONCE"));
  }
}
