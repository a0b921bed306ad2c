package lenet.inference.kafka;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.Topic;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.model.ModelManager;
import lenet.kafka.SharedKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * No record can stop its partition: events whose dead letter (or prediction) would be larger than
 * the producer or the topic takes are answered all the same, and every event behind them on the
 * partition is scored, exactly once as a {@code read_committed} reader sees it.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class OversizedEventsTest {

  private static final String IMAGES = Topic.DIGITS_IMAGES.defaultName();
  private static final String DLQ = Topic.DIGITS_IMAGES_DLQ.defaultName();
  private static final Duration ANSWERED_WITHIN = Duration.ofSeconds(120);

  @Inject ModelManager models;

  @Test
  @Timeout(480)
  void eventsTooLargeToCopyAreDeadLetteredAndThePartitionGoesOn() throws Exception {
    TestModels.ensureServing(models);
    String run = "oversized-" + UUID.randomUUID().toString().substring(0, 8);
    int partition = 0;
    Random random = new Random(23);

    // (a) A malformed event with 20 MiB of headers that compress to almost nothing.
    RecordHeaders padded = trace(run + "-a");
    for (int i = 0; i < 20; i++) {
      byte[] a = new byte[1024 * 1024];
      Arrays.fill(a, (byte) 'a');
      padded.add("padding-" + i, a);
    }
    // (b) An empty event whose one header of random bytes brings it within 200 bytes of the
    // topic's limit.
    RecordHeaders nearLimit = trace(run + "-b");
    byte[] noise = new byte[Topic.LARGE_RECORD - 200 - 100];
    random.nextBytes(noise);
    nearLimit.add("noise", noise);
    // (c) A good event whose id (its key) makes a prediction larger than a record may be.
    byte[] longId = (run + "-c-" + "k".repeat(3 * 1024 * 1024)).getBytes(StandardCharsets.UTF_8);
    // (d) An empty event whose key of random bytes is within 300 bytes of the topic's limit.
    byte[] bigKey = new byte[Topic.LARGE_RECORD - 300 - 100];
    random.nextBytes(bigKey);

    System.out.printf(
        "framed sizes: (a) %d, (b) %d, (c) %d, (d) %d; the topic's limit %d%n",
        framed(utf8(run + "-a"), utf8("{\"pixels\": [1"), padded),
        framed(utf8(run + "-b"), new byte[0], nearLimit),
        framed(longId, utf8(TestModels.pixelsJson(null, 0)), trace(run + "-c")),
        framed(bigKey, new byte[0], new RecordHeaders()),
        Topic.LARGE_RECORD);
    Map<String, Long> offsets = new HashMap<>();
    List<Future<RecordMetadata>> goodAcks = new ArrayList<>();
    long start = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> compressing = producer("gzip");
        KafkaProducer<byte[], byte[]> plain = producer("none")) {
      offsets.put(
          "a", send(compressing, partition, utf8(run + "-a"), utf8("{\"pixels\": [1"), padded));
      offsets.put("b", send(plain, partition, utf8(run + "-b"), new byte[0], nearLimit));
      offsets.put(
          "c",
          send(
              compressing,
              partition,
              longId,
              utf8(TestModels.pixelsJson(null, 0)),
              trace(run + "-c")));
      offsets.put("d", send(plain, partition, bigKey, new byte[0], new RecordHeaders()));
      for (int i = 0; i < 300; i++) {
        goodAcks.add(
            plain.send(
                new ProducerRecord<>(
                    IMAGES,
                    partition,
                    utf8(run + "-good-" + i),
                    utf8(TestModels.pixelsJson(null, i)))));
      }
      for (Future<RecordMetadata> ack : goodAcks) {
        ack.get(30, TimeUnit.SECONDS);
      }
    }

    Map<String, Integer> predicted = new HashMap<>();
    read(
        Topic.DIGITS_PREDICTIONS.defaultName(),
        r -> {
          String key = new String(r.key(), StandardCharsets.UTF_8);
          if (key.startsWith(run)) {
            predicted.merge(key.length() > 100 ? key.substring(0, 100) : key, 1, Integer::sum);
          }
        },
        () -> predicted.size() >= 300);
    Map<Long, List<ConsumerRecord<byte[], byte[]>>> letters = new HashMap<>();
    Set<Long> bad = Set.copyOf(offsets.values());
    long lastGood = goodAcks.get(goodAcks.size() - 1).get().offset();
    read(
        DLQ,
        r -> {
          if (IMAGES.equals(header(r, ScoringOutputs.TOPIC_HEADER))
              && String.valueOf(partition).equals(header(r, ScoringOutputs.PARTITION_HEADER))) {
            long offset = Long.parseLong(header(r, ScoringOutputs.OFFSET_HEADER));
            if (offset >= offsets.get("a") && offset <= lastGood) {
              letters.computeIfAbsent(offset, o -> new ArrayList<>()).add(r);
            }
          }
        },
        () -> letters.keySet().containsAll(bad));
    System.out.printf(
        "4 oversized events and 300 good ones on one partition answered in %d ms%n",
        (System.nanoTime() - start) / 1_000_000);

    // Every good event behind the oversized ones scored, once; the long-id event not predicted.
    assertThat(predicted).hasSize(300).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    assertThat(predicted.keySet()).allMatch(k -> k.startsWith(run + "-good-"));
    // One dead letter for each oversized event, none for a good one.
    assertThat(letters.keySet()).containsExactlyInAnyOrderElementsOf(bad);
    letters.forEach((offset, l) -> assertThat(l).as("letters of offset %d", offset).hasSize(1));

    ConsumerRecord<byte[], byte[]> a = letters.get(offsets.get("a")).get(0);
    assertThat(header(a, ScoringOutputs.REASON_HEADER)).startsWith("MALFORMED_JSON: ");
    assertThat(header(a, ScoringOutputs.HEADERS_DROPPED_HEADER)).isEqualTo("17");
    assertThat(header(a, "trace")).isEqualTo(run + "-a");
    assertThat(a.value()).isEqualTo(utf8("{\"pixels\": [1"));
    assertThat(a.key()).isEqualTo(utf8(run + "-a"));

    ConsumerRecord<byte[], byte[]> b = letters.get(offsets.get("b")).get(0);
    assertThat(header(b, ScoringOutputs.REASON_HEADER)).startsWith("EMPTY: ");
    assertThat(header(b, ScoringOutputs.HEADERS_DROPPED_HEADER)).isEqualTo("1");
    assertThat(header(b, "trace")).isEqualTo(run + "-b");
    assertThat(b.headers().lastHeader("noise")).isNull();
    assertThat(b.key()).isEqualTo(utf8(run + "-b"));

    ConsumerRecord<byte[], byte[]> c = letters.get(offsets.get("c")).get(0);
    assertThat(header(c, ScoringOutputs.REASON_HEADER))
        .startsWith("TOO_LARGE: its prediction would be ")
        .contains("an id of " + longId.length + " bytes");
    assertThat(c.key()).isEqualTo(longId);
    assertThat(c.value()).isEqualTo(utf8(TestModels.pixelsJson(null, 0)));

    ConsumerRecord<byte[], byte[]> d = letters.get(offsets.get("d")).get(0);
    assertThat(header(d, ScoringOutputs.REASON_HEADER)).startsWith("EMPTY: ");
    assertThat(header(d, ScoringOutputs.KEY_DROPPED_HEADER))
        .isEqualTo(String.valueOf(bigKey.length));
    assertThat(d.key()).isNull();

    assertThat(given().get("/q/metrics").then().statusCode(200).extract().asString())
        .contains("inference_dead_letters_shrunk_total{dropped=\"headers\"}")
        .contains("inference_dead_letters_shrunk_total{dropped=\"key\"}");
  }

  @Test
  @Timeout(480)
  void anAnswerTheBrokerRefusesIsReplacedByAMinimalDeadLetter() throws Exception {
    TestModels.ensureServing(models);
    String run = "refused-" + UUID.randomUUID().toString().substring(0, 8);
    int partition = 1;
    ConfigResource dlq = new ConfigResource(ConfigResource.Type.TOPIC, DLQ);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()))) {
      // The dead-letter topic set up with a smaller limit than the topic table says: the service
      // sizes a 200 KB letter as fitting, and the broker refuses it.
      setMaxMessageBytes(admin, dlq, 64 * 1024);
      try {
        byte[] junk = new byte[200_000];
        new Random(7).nextBytes(junk);
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = producer("none")) {
          for (int i = 0; i < 41; i++) {
            boolean isBad = i == 20;
            acks.add(
                producer.send(
                    new ProducerRecord<>(
                        IMAGES,
                        partition,
                        utf8(run + (isBad ? "-bad" : "-good-" + i)),
                        isBad ? junk : utf8(TestModels.pixelsJson(null, i)),
                        trace(run + "-" + i))));
          }
          for (Future<RecordMetadata> ack : acks) {
            ack.get(30, TimeUnit.SECONDS);
          }
        }
        long badOffset = acks.get(20).get().offset();

        Map<String, Integer> predicted = new HashMap<>();
        read(
            Topic.DIGITS_PREDICTIONS.defaultName(),
            r -> {
              String key = new String(r.key(), StandardCharsets.UTF_8);
              if (key.startsWith(run)) {
                predicted.merge(key, 1, Integer::sum);
              }
            },
            () -> predicted.size() >= 40);
        List<ConsumerRecord<byte[], byte[]>> letters = new ArrayList<>();
        read(
            DLQ,
            r -> {
              if (r.key() != null && new String(r.key(), StandardCharsets.UTF_8).startsWith(run)) {
                letters.add(r);
              }
            },
            () -> !letters.isEmpty());

        assertThat(predicted).hasSize(40).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
        assertThat(letters).hasSize(1);
        ConsumerRecord<byte[], byte[]> letter = letters.get(0);
        assertThat(letter.key()).isEqualTo(utf8(run + "-bad"));
        assertThat(letter.value()).isNull();
        assertThat(header(letter, ScoringOutputs.REASON_HEADER))
            .startsWith("REFUSED: '" + DLQ + "' refused the dead letter of this event")
            .contains("RecordTooLargeException");
        assertThat(header(letter, ScoringOutputs.OFFSET_HEADER))
            .isEqualTo(String.valueOf(badOffset));
        assertThat(header(letter, ScoringOutputs.VALUE_DROPPED_HEADER)).isEqualTo("200000");
        assertThat(given().get("/q/metrics").then().extract().asString())
            .contains("inference_dead_letters_shrunk_total{dropped=\"minimal\"}")
            .contains("inference_dead_letters_total{reason=\"REFUSED\"}");
      } finally {
        setMaxMessageBytes(admin, dlq, Topic.LARGE_RECORD);
      }
    }
  }

  private static void setMaxMessageBytes(Admin admin, ConfigResource topic, int bytes)
      throws Exception {
    String value = String.valueOf(bytes);
    admin
        .incrementalAlterConfigs(
            Map.of(
                topic,
                List.of(
                    new AlterConfigOp(
                        new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, value),
                        AlterConfigOp.OpType.SET))))
        .all()
        .get(30, TimeUnit.SECONDS);
    await("max.message.bytes of " + topic.name() + " is " + value)
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                value.equals(
                    admin
                        .describeConfigs(List.of(topic))
                        .all()
                        .get(10, TimeUnit.SECONDS)
                        .get(topic)
                        .get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG)
                        .value()));
  }

  private static void read(
      String topic,
      java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> each,
      java.util.function.BooleanSupplier done) {
    TestModels.readCommitted(topic, each, done, ANSWERED_WITHIN);
  }

  private static long send(
      KafkaProducer<byte[], byte[]> producer,
      int partition,
      byte[] key,
      byte[] value,
      RecordHeaders headers)
      throws Exception {
    return producer
        .send(new ProducerRecord<>(IMAGES, partition, key, value, headers))
        .get(30, TimeUnit.SECONDS)
        .offset();
  }

  /**
   * A producer that takes records of 20 MiB before compression: what the broker gets is what counts
   * against the topic's limit.
   */
  private static KafkaProducer<byte[], byte[]> producer(String compression) {
    return TestModels.producer(
        Map.of(
            ProducerConfig.COMPRESSION_TYPE_CONFIG,
            compression,
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
            32 * 1024 * 1024,
            ProducerConfig.BUFFER_MEMORY_CONFIG,
            64L * 1024 * 1024,
            ProducerConfig.LINGER_MS_CONFIG,
            5));
  }

  /** The size a producer checks, as it frames the record. */
  private static int framed(byte[] key, byte[] value, RecordHeaders headers) {
    return AbstractRecords.estimateSizeInBytesUpperBound(
        RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE, key, value, headers.toArray());
  }

  private static RecordHeaders trace(String id) {
    RecordHeaders headers = new RecordHeaders();
    headers.add("trace", utf8(id));
    return headers;
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
    Header h = r.headers().lastHeader(key);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
