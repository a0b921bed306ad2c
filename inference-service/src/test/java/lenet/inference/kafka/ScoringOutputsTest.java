package lenet.inference.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/**
 * Dead letters sized as the producer frames them: each one fits the dead-letter topic, and sheds
 * only what it must (the original's largest headers, then the value, then the key), saying so.
 */
class ScoringOutputsTest {

  private static final int LIMIT = RecordLimits.limit(Topic.DIGITS_IMAGES_DLQ);
  private static final WireFormatException MALFORMED =
      new WireFormatException(Reason.MALFORMED_JSON, "image event is not valid JSON");

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ScoringOutputs outputs = new ScoringOutputs(Topics.defaults(), registry);

  @Test
  void aLetterThatFitsIsTheOriginalUnchanged() {
    RecordHeaders headers = new RecordHeaders();
    headers.add("trace", utf8("t-1"));
    ConsumerRecord<byte[], byte[]> original =
        record(utf8("id-1"), utf8("{\"pixels\": [1"), headers);
    ProducerRecord<byte[], byte[]> letter = outputs.deadLetter(original, MALFORMED);
    assertThat(letter.key()).isEqualTo(original.key());
    assertThat(letter.value()).isEqualTo(original.value());
    assertThat(keys(letter))
        .containsExactly(
            "trace",
            ScoringOutputs.REASON_HEADER,
            ScoringOutputs.TOPIC_HEADER,
            ScoringOutputs.PARTITION_HEADER,
            ScoringOutputs.OFFSET_HEADER);
    assertThat(registry.find("inference.dead.letters.shrunk").counters()).isEmpty();
  }

  @Test
  void twentyMegabytesOfHeadersLoseTheLargestOnlyAsFarAsNeeded() {
    RecordHeaders headers = new RecordHeaders();
    headers.add("traceparent", utf8("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
    for (int i = 0; i < 20; i++) {
      byte[] a = new byte[1024 * 1024];
      Arrays.fill(a, (byte) 'a');
      headers.add("padding-" + i, a);
    }
    headers.add("source", utf8("test"));
    ConsumerRecord<byte[], byte[]> original =
        record(utf8("id-2"), utf8("{\"pixels\": [1"), headers);

    ProducerRecord<byte[], byte[]> letter = outputs.deadLetter(original, MALFORMED);

    assertThat(framed(letter)).isLessThanOrEqualTo(LIMIT);
    // Three 1 MiB headers still fit under 4 MiB, a fourth would not.
    assertThat(header(letter, ScoringOutputs.HEADERS_DROPPED_HEADER)).isEqualTo("17");
    assertThat(keys(letter)).contains("traceparent", "source");
    assertThat(keys(letter)).filteredOn(k -> k.startsWith("padding-")).hasSize(3);
    assertThat(keys(letter)).doesNotContain(ScoringOutputs.VALUE_DROPPED_HEADER);
    assertThat(letter.value()).isEqualTo(original.value());
    assertThat(letter.key()).isEqualTo(original.key());
    assertThat(shrunk("headers")).isEqualTo(1);
  }

  @Test
  void halfAMillionSmallHeadersAreMeasuredQuickly() {
    RecordHeaders headers = new RecordHeaders();
    byte[] value = new byte[32];
    for (int i = 0; i < 500_000; i++) {
      headers.add(new RecordHeader("h" + i, value));
    }
    ConsumerRecord<byte[], byte[]> original = record(utf8("id-3"), utf8("{"), headers);
    long start = System.nanoTime();
    ProducerRecord<byte[], byte[]> letter = outputs.deadLetter(original, MALFORMED);
    long millis = (System.nanoTime() - start) / 1_000_000;
    System.out.printf(
        "500,000 headers (%d bytes framed): dead letter of %d bytes in %d ms%n",
        RecordLimits.framedSize(original.key(), original.value(), original.headers().toArray()),
        framed(letter),
        millis);
    assertThat(framed(letter)).isLessThanOrEqualTo(LIMIT).isGreaterThan(LIMIT - 64);
    assertThat(millis).isLessThan(10_000);
  }

  @Test
  void aValueThatDoesNotFitGoesAfterTheHeadersAndTheKeyLast() {
    byte[] big = new byte[LIMIT - 100];
    new Random(1).nextBytes(big);
    RecordHeaders headers = new RecordHeaders();
    headers.add("trace", utf8("t-4"));
    ConsumerRecord<byte[], byte[]> bigValue = record(utf8("id-4"), big, headers);
    ProducerRecord<byte[], byte[]> letter = outputs.deadLetter(bigValue, MALFORMED);
    assertThat(framed(letter)).isLessThanOrEqualTo(LIMIT);
    assertThat(letter.value()).isNull();
    assertThat(letter.key()).isEqualTo(utf8("id-4"));
    // Without the value the small header fits again.
    assertThat(keys(letter))
        .contains("trace")
        .doesNotContain(ScoringOutputs.HEADERS_DROPPED_HEADER);
    assertThat(header(letter, ScoringOutputs.VALUE_DROPPED_HEADER))
        .isEqualTo(String.valueOf(big.length));
    assertThat(shrunk("value")).isEqualTo(1);

    ConsumerRecord<byte[], byte[]> bigKey = record(big, new byte[0], new RecordHeaders());
    letter =
        outputs.deadLetter(bigKey, new WireFormatException(Reason.EMPTY, "image event is empty"));
    assertThat(framed(letter)).isLessThanOrEqualTo(LIMIT);
    assertThat(letter.key()).isNull();
    assertThat(letter.value()).isEmpty(); // dropping nothing would not help
    assertThat(header(letter, ScoringOutputs.KEY_DROPPED_HEADER))
        .isEqualTo(String.valueOf(big.length));
    assertThat(keys(letter)).doesNotContain(ScoringOutputs.VALUE_DROPPED_HEADER);
    assertThat(shrunk("key")).isEqualTo(1);
  }

  @Test
  void aReasonOfMegabytesIsCut() {
    String field = "f".repeat(2_000_000);
    ProducerRecord<byte[], byte[]> letter =
        outputs.deadLetter(
            record(utf8("id-5"), utf8("{}"), new RecordHeaders()),
            new WireFormatException(Reason.UNKNOWN_FIELD, "unknown field '" + field + "'"));
    assertThat(header(letter, ScoringOutputs.REASON_HEADER))
        .startsWith("UNKNOWN_FIELD: unknown field 'fff")
        .endsWith("... (2000031 characters)")
        .hasSizeLessThan(ScoringOutputs.MAX_REASON_CHARS + 40);
  }

  @Test
  void aPredictionTooLargeToWriteIsUnfit() {
    ProducerRecord<byte[], byte[]> small = outputs.prediction(prediction("id-6"));
    assertThat(outputs.unfit(small)).isEmpty();
    ProducerRecord<byte[], byte[]> huge = outputs.prediction(prediction("k".repeat(600_000)));
    Optional<WireFormatException> why = outputs.unfit(huge);
    assertThat(why).isPresent();
    assertThat(why.get().reason()).isEqualTo(Reason.TOO_LARGE);
    assertThat(why.get().getMessage()).contains("an id of 600000 bytes");
  }

  @Test
  void aRefusedAnswerBecomesAMinimalLetter() {
    RecordHeaders headers = new RecordHeaders();
    headers.add("trace", utf8("t-7"));
    ConsumerRecord<byte[], byte[]> original = record(utf8("id-7"), new byte[200_000], headers);
    ProducerRecord<byte[], byte[]> letter =
        outputs.refused(
            original,
            outputs.deadLetter(original, MALFORMED),
            new RecordTooLargeException("too large"));
    assertThat(letter.topic()).isEqualTo(Topic.DIGITS_IMAGES_DLQ.defaultName());
    assertThat(letter.key()).isEqualTo(utf8("id-7"));
    assertThat(letter.value()).isNull();
    assertThat(header(letter, ScoringOutputs.REASON_HEADER))
        .startsWith("REFUSED: 'digits.images.dlq' refused the dead letter of this event")
        .contains("RecordTooLargeException");
    assertThat(header(letter, ScoringOutputs.OFFSET_HEADER)).isEqualTo("42");
    assertThat(header(letter, ScoringOutputs.HEADERS_DROPPED_HEADER)).isEqualTo("1");
    assertThat(header(letter, ScoringOutputs.VALUE_DROPPED_HEADER)).isEqualTo("200000");
    assertThat(shrunk("minimal")).isEqualTo(1);
    assertThat(registry.find("inference.dead.letters").tag("reason", "REFUSED").counter().count())
        .isEqualTo(1);

    ConsumerRecord<byte[], byte[]> longKey =
        record(new byte[ScoringOutputs.MINIMAL_KEY_BYTES + 1], null, new RecordHeaders());
    letter =
        outputs.refused(
            longKey, outputs.deadLetter(longKey, MALFORMED), new RecordTooLargeException("x"));
    assertThat(letter.key()).isNull();
  }

  private double shrunk(String dropped) {
    return registry.find("inference.dead.letters.shrunk").tag("dropped", dropped).counter().count();
  }

  private static Prediction prediction(String id) {
    float[] p = new float[10];
    p[3] = 1f;
    return Prediction.fromProbabilities(id, p, 7L);
  }

  private static ConsumerRecord<byte[], byte[]> record(
      byte[] key, byte[] value, RecordHeaders headers) {
    return new ConsumerRecord<>(
        Topic.DIGITS_IMAGES.defaultName(),
        0,
        42,
        0L,
        TimestampType.CREATE_TIME,
        key == null ? -1 : key.length,
        value == null ? -1 : value.length,
        key,
        value,
        headers,
        Optional.empty());
  }

  private static int framed(ProducerRecord<byte[], byte[]> r) {
    return RecordLimits.framedSize(r.key(), r.value(), r.headers().toArray());
  }

  private static String header(ProducerRecord<byte[], byte[]> r, String key) {
    Header h = r.headers().lastHeader(key);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private static java.util.List<String> keys(ProducerRecord<byte[], byte[]> r) {
    return Arrays.stream(r.headers().toArray()).map(Header::key).toList();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
