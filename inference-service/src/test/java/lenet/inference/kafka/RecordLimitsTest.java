package lenet.inference.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.Topic;
import lenet.inference.TestModels;
import lenet.kafka.SharedKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link RecordLimits} against what a real producer and a real broker take: the framed size is the
 * producer's own figure to the byte (the largest record it accepts and the smallest it refuses),
 * and a record framed within a topic's limit is stored even when its bytes do not compress.
 */
@Timeout(120)
class RecordLimitsTest {

  private static final int TOPIC_LIMIT = 1024 * 1024;
  private static String topic;

  @BeforeAll
  static void createTopic() throws Exception {
    topic = "record-limits-" + System.nanoTime();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, 1, (short) 1)
                      .configs(
                          Map.of(
                              TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(TOPIC_LIMIT)))))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void theFramedSizeIsTheProducersOwnFigure() throws Exception {
    int maxRequestSize = 200_000;
    // Headers with one- and two-byte varint lengths, a key, and a value sized to hit the limit.
    Header[] headers = new Header[300];
    for (int i = 0; i < headers.length; i++) {
      headers[i] = new RecordHeader("h" + i, new byte[i % 200]);
    }
    byte[] key = "an-event-id".getBytes(StandardCharsets.UTF_8);
    byte[] largest = valueFramedTo(maxRequestSize, key, headers);
    byte[] oneMore = new byte[largest.length + 1];
    assertThat(RecordLimits.framedSize(key, largest, headers)).isEqualTo(maxRequestSize);
    assertThat(RecordLimits.framedSize(key, oneMore, headers)).isEqualTo(maxRequestSize + 1);

    try (KafkaProducer<byte[], byte[]> producer = producer(maxRequestSize)) {
      producer.send(new ProducerRecord<>(topic, null, key, largest, List.of(headers))).get();
      assertThatThrownBy(
              () ->
                  producer
                      .send(new ProducerRecord<>(topic, null, key, oneMore, List.of(headers)))
                      .get())
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(RecordTooLargeException.class);
    }
  }

  @Test
  void aRecordFramedWithinTheTopicsLimitIsStoredWhateverItsBytes() throws Exception {
    int limit = RecordLimits.limit(8 * 1024 * 1024, TOPIC_LIMIT);
    assertThat(limit).isEqualTo(TOPIC_LIMIT - 11 - 4 * 16);
    try (KafkaProducer<byte[], byte[]> producer = producer(8 * 1024 * 1024)) {
      assertThat(storedAt(producer, limit)).as("framed to the limit").isTrue();
      // The topic's own figure, framed: lz4 adds to bytes that do not compress, the broker refuses.
      assertThat(storedAt(producer, TOPIC_LIMIT)).as("framed to max.message.bytes").isFalse();
      int refusedFrom = smallestRefused(producer, limit, TOPIC_LIMIT);
      System.out.printf(
          "topic max.message.bytes %d: largest framed size allowed %d, the broker refuses from %d%n",
          TOPIC_LIMIT, limit, refusedFrom);
      assertThat(refusedFrom - limit).as("room left unused").isBetween(1, 32);
    }
  }

  @Test
  void theScoringTopicsLimitsAreTheSmallerOfProducerAndTopic() {
    assertThat(RecordLimits.limit(Topic.DIGITS_IMAGES_DLQ))
        .isEqualTo(Topic.LARGE_RECORD - 11 - 4 * 64)
        .isLessThan(RecordLimits.MAX_REQUEST_SIZE);
    assertThat(RecordLimits.limit(Topic.DIGITS_PREDICTIONS))
        .isEqualTo(1024 * 1024 + 12 - 11 - 4 * 17);
  }

  /** The smallest framed size in (accepted, refused] that the broker refuses. */
  private static int smallestRefused(KafkaProducer<byte[], byte[]> producer, int ok, int no)
      throws Exception {
    while (no - ok > 1) {
      int mid = (ok + no) >>> 1;
      if (storedAt(producer, mid)) {
        ok = mid;
      } else {
        no = mid;
      }
    }
    return no;
  }

  /** Whether the broker stores a record of random bytes framed to {@code size}. */
  private static boolean storedAt(KafkaProducer<byte[], byte[]> producer, int size)
      throws Exception {
    byte[] value = valueFramedTo(size, null, new Header[0]);
    new Random(size).nextBytes(value);
    assertThat(RecordLimits.framedSize(null, value, new Header[0])).isEqualTo(size);
    try {
      producer.send(new ProducerRecord<>(topic, value)).get(30, TimeUnit.SECONDS);
      return true;
    } catch (ExecutionException e) {
      assertThat(e).hasCauseInstanceOf(RecordTooLargeException.class);
      return false;
    }
  }

  /** A value that makes the record framed to exactly {@code size} bytes. */
  private static byte[] valueFramedTo(int size, byte[] key, Header[] headers) {
    int length = size - RecordLimits.framedSize(key, new byte[0], headers);
    while (RecordLimits.framedSize(key, new byte[length], headers) > size) {
      length--;
    }
    return new byte[length];
  }

  private static KafkaProducer<byte[], byte[]> producer(int maxRequestSize) {
    return TestModels.producer(
        Map.of(
            ProducerConfig.COMPRESSION_TYPE_CONFIG,
            RecordLimits.COMPRESSION,
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
            maxRequestSize));
  }
}
