package lenet.inference.kafka;

import java.nio.charset.StandardCharsets;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The records scoring writes: a prediction keyed by the event id, or a dead letter that is the
 * original record byte for byte (key, value, headers) with the reason and origin added in headers.
 * Built here and sent by the worker that scored the batch, inside its transaction.
 */
public final class ScoringOutputs {

  /** Why a record was dead-lettered: the reason name, a colon, and what exactly is wrong. */
  public static final String REASON_HEADER = "dead-letter-reason";

  public static final String TOPIC_HEADER = "dead-letter-topic";
  public static final String PARTITION_HEADER = "dead-letter-partition";
  public static final String OFFSET_HEADER = "dead-letter-offset";

  /**
   * Set when the original value had to be dropped because, with the headers, it would exceed the
   * dead-letter topic's limit (a send refused inside a transaction would abort the whole batch).
   */
  public static final String VALUE_DROPPED_HEADER = "dead-letter-value-dropped";

  /** Room left under the topic's record limit for the record's framing. */
  private static final int FRAMING = 16 * 1024;

  private final String predictionsTopic;
  private final String deadLetterTopic;

  public ScoringOutputs(Topics topics) {
    this.predictionsTopic = topics.name(Topic.DIGITS_PREDICTIONS);
    this.deadLetterTopic = topics.name(Topic.DIGITS_IMAGES_DLQ);
  }

  public String predictionsTopic() {
    return predictionsTopic;
  }

  public String deadLetterTopic() {
    return deadLetterTopic;
  }

  public ProducerRecord<byte[], byte[]> prediction(Prediction prediction) {
    return new ProducerRecord<>(
        predictionsTopic, prediction.id().getBytes(StandardCharsets.UTF_8), prediction.encode());
  }

  /** {@code original} unchanged, with the reason and where it came from added as headers. */
  public ProducerRecord<byte[], byte[]> deadLetter(
      ConsumerRecord<byte[], byte[]> original, WireFormatException why) {
    RecordHeaders headers = new RecordHeaders(original.headers().toArray());
    headers.add(REASON_HEADER, utf8(why.describe()));
    headers.add(TOPIC_HEADER, utf8(original.topic()));
    headers.add(PARTITION_HEADER, utf8(String.valueOf(original.partition())));
    headers.add(OFFSET_HEADER, utf8(String.valueOf(original.offset())));
    boolean drop =
        size(original.key()) + size(original.value()) + size(headers) + FRAMING
            > Topic.LARGE_RECORD;
    if (drop) {
      headers.add(VALUE_DROPPED_HEADER, utf8("true"));
    }
    return new ProducerRecord<>(
        deadLetterTopic, null, original.key(), drop ? null : original.value(), headers);
  }

  private static int size(byte[] b) {
    return b == null ? 0 : b.length;
  }

  private static int size(RecordHeaders headers) {
    int n = 0;
    for (Header h : headers) {
      n += h.key().length() + size(h.value());
    }
    return n;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
