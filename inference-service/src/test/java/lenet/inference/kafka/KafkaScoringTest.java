package lenet.inference.kafka;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import lenet.contract.topics.Topic;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.model.ModelManager;
import lenet.kafka.SharedKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * {@code digits.images} to {@code digits.predictions}: good events in every form get one correct
 * prediction each, every kind of bad event becomes exactly one dead letter, byte for byte the
 * original with the reason added.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class KafkaScoringTest {

  @Inject ModelManager models;

  @Test
  void goodEventsArePredictedAndEachBadOneIsDeadLetteredUnchanged() throws Exception {
    long version = TestModels.ensureServing(models);
    String run = UUID.randomUUID().toString().substring(0, 8);
    String pixels = TestModels.pixelsJson(null, 1);

    Map<String, String> bad = new LinkedHashMap<>();
    bad.put("empty", "");
    bad.put("malformed", "{\"pixels\": [1, 2");
    bad.put("array", "[1, 2, 3]");
    bad.put("unknown-field", pixels.replace("\"pixels\"", "\"pixel\""));
    bad.put("missing", "{\"id\": null}");
    bad.put("count", "{\"pixels\": [0, 0, 0]}");
    bad.put("range", pixels.replaceFirst("\\[0,", "[256,"));
    bad.put("both", pixels.replace("{", "{\"png\": \"iVBORw0KGgo=\", "));
    bad.put(
        "not-an-image",
        "{\"png\": \"" + Base64.getEncoder().encodeToString("%PDF-1.4".getBytes()) + "\"}");
    bad.put("too-large", "{\"pixels\": [" + "0, ".repeat(1_100_000) + "0]}");
    ByteArrayOutputStream bomb = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(4100, 4100, BufferedImage.TYPE_BYTE_BINARY), "png", bomb);
    bad.put(
        "too-many-pixels",
        "{\"png\": \"" + Base64.getEncoder().encodeToString(bomb.toByteArray()) + "\"}");
    Map<String, String> reasons =
        Map.ofEntries(
            Map.entry("empty", "EMPTY"),
            Map.entry("malformed", "MALFORMED_JSON"),
            Map.entry("array", "WRONG_TYPE"),
            Map.entry("unknown-field", "UNKNOWN_FIELD"),
            Map.entry("missing", "MISSING_FIELD"),
            Map.entry("count", "WRONG_PIXEL_COUNT"),
            Map.entry("range", "VALUE_OUT_OF_RANGE"),
            Map.entry("both", "INVALID_VALUE"),
            Map.entry("not-an-image", "UNDECODABLE_IMAGE"),
            Map.entry("too-large", "TOO_LARGE"),
            Map.entry("too-many-pixels", "TOO_LARGE"),
            Map.entry("tombstone", "EMPTY"));

    Map<String, byte[]> sentValues = new LinkedHashMap<>();
    List<Future<RecordMetadata>> acks = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      int good = 0;
      for (Map.Entry<String, String> e : bad.entrySet()) {
        // Interleaved with good events, so bad and good share micro-batches.
        String goodId = run + "-good-" + good;
        acks.add(
            send(
                producer,
                goodId,
                TestModels.pixelsJson(null, good).getBytes(StandardCharsets.UTF_8)));
        good++;
        String id = run + "-bad-" + e.getKey();
        byte[] value = e.getValue().getBytes(StandardCharsets.UTF_8);
        sentValues.put(id, value);
        acks.add(send(producer, id, value));
      }
      String tombstone = run + "-bad-tombstone";
      sentValues.put(tombstone, null);
      acks.add(send(producer, tombstone, null));
      // A PNG event, id inside the event (not the key), digit 2 dark on white.
      String png = Base64.getEncoder().encodeToString(TestModels.render(1, 160, 4, 30, 10, "png"));
      acks.add(
          producer.send(
              new ProducerRecord<>(
                  Topic.DIGITS_IMAGES.defaultName(),
                  null,
                  ("{\"id\": \"" + run + "-good-png\", \"png\": \"" + png + "\"}")
                      .getBytes(StandardCharsets.UTF_8))));
      for (Future<RecordMetadata> ack : acks) {
        ack.get(30, TimeUnit.SECONDS);
      }
    }
    int goodCount = bad.size() + 1;

    var predictions =
        TestModels.readUntil(
            Topic.DIGITS_PREDICTIONS.defaultName(),
            k -> k.startsWith(run),
            m -> m.size() >= goodCount,
            Duration.ofSeconds(60));
    assertThat(predictions.keySet()).hasSize(goodCount).allMatch(k -> k.startsWith(run + "-good-"));
    predictions.forEach(
        (id, records) -> assertThat(records).as("predictions for %s", id).hasSize(1));
    for (int i = 0; i < bad.size(); i++) {
      Prediction p = Prediction.decode(predictions.get(run + "-good-" + i).get(0).value());
      assertThat(p.modelVersion()).isEqualTo(version);
    }
    assertThat(Prediction.decode(predictions.get(run + "-good-png").get(0).value()).digit())
        .isEqualTo(TestModels.label(1));

    var dead =
        TestModels.readUntil(
            Topic.DIGITS_IMAGES_DLQ.defaultName(),
            k -> k.startsWith(run),
            m -> m.size() >= sentValues.size(),
            Duration.ofSeconds(60));
    assertThat(dead.keySet()).containsExactlyInAnyOrderElementsOf(sentValues.keySet());
    dead.forEach(
        (id, records) -> {
          assertThat(records).as("dead letters for %s", id).hasSize(1);
          ConsumerRecord<byte[], byte[]> r = records.get(0);
          assertThat(r.value()).as("value of %s unchanged", id).isEqualTo(sentValues.get(id));
          Header[] headers = r.headers().toArray();
          assertThat(headers[0].key()).isEqualTo("trace");
          assertThat(headers[0].value()).isEqualTo(id.getBytes(StandardCharsets.UTF_8));
          assertThat(headers[1].key()).isEqualTo("source");
          assertThat(headers[1].value()).isEqualTo("test".getBytes(StandardCharsets.UTF_8));
          String reason =
              new String(
                  r.headers().lastHeader(ScoringOutputs.REASON_HEADER).value(),
                  StandardCharsets.UTF_8);
          String expected = reasons.get(id.substring((run + "-bad-").length()));
          assertThat(reason).as("reason of %s", id).startsWith(expected + ": ");
          assertThat(
                  new String(
                      r.headers().lastHeader(ScoringOutputs.TOPIC_HEADER).value(),
                      StandardCharsets.UTF_8))
              .isEqualTo(Topic.DIGITS_IMAGES.defaultName());
        });

    // The batches were acknowledged after their outputs: the group's committed offsets reach the
    // end of the topic.
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()))) {
      await("offsets committed").atMost(Duration.ofSeconds(30)).until(() -> lag(admin) == 0);
    }

    String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
    assertThat(metrics)
        .contains("inference_dead_letters_total{reason=\"MALFORMED_JSON\"}")
        .contains("inference_dead_letters_total{reason=\"TOO_LARGE\"}")
        .contains("inference_predictions_total{source=\"kafka\"}")
        .contains("inference_latency_seconds_bucket{source=\"kafka\"")
        .contains("inference_model_serving_version");
  }

  @Test
  void anEventWithNeitherIdNorKeyIsAnsweredUnderItsPlaceOnTheTopic() throws Exception {
    TestModels.ensureServing(models);
    RecordMetadata at;
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      at =
          producer
              .send(
                  new ProducerRecord<>(
                      Topic.DIGITS_IMAGES.defaultName(),
                      null,
                      TestModels.pixelsJson(null, 3).getBytes(StandardCharsets.UTF_8)))
              .get(30, TimeUnit.SECONDS);
    }
    String id = at.topic() + "-" + at.partition() + "-" + at.offset();
    var predictions =
        TestModels.readUntil(
            Topic.DIGITS_PREDICTIONS.defaultName(),
            id::equals,
            m -> m.containsKey(id),
            Duration.ofSeconds(60));
    assertThat(predictions.get(id)).as("deterministic id " + id).hasSize(1);
    assertThat(Prediction.decode(predictions.get(id).get(0).value()).id()).isEqualTo(id);
  }

  @Test
  void rawPixelRecordsAreScoredAndAWrongSizeIsDeadLettered() throws Exception {
    TestModels.ensureServing(models);
    String run = "raw-" + System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        int[] pixels = TestModels.pixels(i);
        byte[] raw = new byte[pixels.length];
        for (int k = 0; k < raw.length; k++) {
          raw[k] = (byte) pixels[k];
        }
        acks.add(sendRaw(producer, run + "-good-" + i, raw));
        acks.add(
            producer.send(
                new ProducerRecord<>(
                    Topic.DIGITS_IMAGES.defaultName(),
                    (run + "-json-" + i).getBytes(StandardCharsets.UTF_8),
                    TestModels.pixelsJson(null, i).getBytes(StandardCharsets.UTF_8))));
      }
      acks.add(sendRaw(producer, run + "-bad-size", new byte[100]));
      for (Future<RecordMetadata> ack : acks) {
        ack.get(30, TimeUnit.SECONDS);
      }
    }
    var predictions =
        TestModels.readUntil(
            Topic.DIGITS_PREDICTIONS.defaultName(),
            k -> k.startsWith(run),
            m -> m.size() >= 10,
            Duration.ofSeconds(60));
    for (int i = 0; i < 5; i++) {
      Prediction raw = Prediction.decode(predictions.get(run + "-good-" + i).get(0).value());
      Prediction json = Prediction.decode(predictions.get(run + "-json-" + i).get(0).value());
      assertThat(raw.digit()).isEqualTo(TestModels.label(i));
      // Same image, another batch: libtorch may sum in another order (last float digits).
      assertThat(raw.probabilities())
          .as("raw and JSON of image %d", i)
          .containsExactly(json.probabilities(), org.assertj.core.data.Offset.offset(1e-5f));
    }
    var dead =
        TestModels.readUntil(
            Topic.DIGITS_IMAGES_DLQ.defaultName(),
            k -> k.startsWith(run),
            m -> !m.isEmpty(),
            Duration.ofSeconds(60));
    ConsumerRecord<byte[], byte[]> letter = dead.get(run + "-bad-size").get(0);
    assertThat(
            new String(
                letter.headers().lastHeader(ScoringOutputs.REASON_HEADER).value(),
                StandardCharsets.UTF_8))
        .startsWith("WRONG_PIXEL_COUNT: ")
        .contains("got 100");
    assertThat(letter.value()).hasSize(100);
  }

  private static Future<RecordMetadata> sendRaw(
      KafkaProducer<byte[], byte[]> producer, String key, byte[] value) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(
        ImageEvent.CONTENT_TYPE_HEADER,
        ImageEvent.RAW_CONTENT_TYPE.getBytes(StandardCharsets.UTF_8));
    return send(producer, key, value, headers);
  }

  @Test
  void kafkaIsItsOwnHealthGroupNotAReasonToBeUnready() {
    TestModels.ensureServing(models);
    String ready = given().get("/q/health/ready").then().statusCode(200).extract().asString();
    assertThat(ready).contains("lenet5-model").doesNotContain("Kafka connection");
    await("the kafka group reports the broker and the workers")
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                given()
                    .get("/q/health/group/kafka")
                    .then()
                    .statusCode(200)
                    .body("checks[0].name", org.hamcrest.Matchers.equalTo("kafka"))
                    .body("checks[0].data.delivery", org.hamcrest.Matchers.equalTo("EXACTLY_ONCE"))
                    .body("checks[0].data.workersAlive", org.hamcrest.Matchers.equalTo(2)));
    given()
        .get("/q/health/live")
        .then()
        .statusCode(200)
        .body(org.hamcrest.Matchers.containsString("kafka-scoring-workers"));
    assertThat(given().get("/q/metrics").then().extract().asString())
        .contains("inference_kafka_up 1.0")
        .contains("inference_kafka_batches_total{outcome=\"written\"}");
  }

  private static long lag(Admin admin) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin
            .listConsumerGroupOffsets("inference-service")
            .partitionsToOffsetAndMetadata()
            .get(10, TimeUnit.SECONDS);
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < Topic.DIGITS_IMAGES.partitions(); p++) {
      latest.put(new TopicPartition(Topic.DIGITS_IMAGES.defaultName(), p), OffsetSpec.latest());
    }
    long lag = 0;
    for (var e : admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).entrySet()) {
      OffsetAndMetadata c = committed.get(e.getKey());
      lag += e.getValue().offset() - (c == null ? 0 : c.offset());
    }
    return lag;
  }

  private static Future<RecordMetadata> send(
      KafkaProducer<byte[], byte[]> producer, String key, byte[] value) {
    RecordHeaders headers = new RecordHeaders();
    headers.add("trace", key.getBytes(StandardCharsets.UTF_8));
    headers.add("source", "test".getBytes(StandardCharsets.UTF_8));
    return send(producer, key, value, headers);
  }

  private static Future<RecordMetadata> send(
      KafkaProducer<byte[], byte[]> producer, String key, byte[] value, RecordHeaders headers) {
    return producer.send(
        new ProducerRecord<>(
            Topic.DIGITS_IMAGES.defaultName(),
            null,
            key.getBytes(StandardCharsets.UTF_8),
            value,
            headers));
  }
}
