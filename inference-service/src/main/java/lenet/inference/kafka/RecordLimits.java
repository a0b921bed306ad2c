package lenet.inference.kafka;

import lenet.contract.topics.Topic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.Records;

/**
 * The largest record the scoring producer can write to an output topic, measured as Kafka frames
 * it, so that no output is refused inside a transaction (a refused send puts the transactional
 * producer in an error state: the whole batch aborts, and would abort again each time it is read).
 *
 * <p>Two limits apply. The producer refuses a record whose framed, uncompressed size (record batch
 * v2: batch header, record overhead, the varint lengths of key, value, header count and each
 * header's key and value; {@link AbstractRecords#estimateSizeInBytesUpperBound}, the figure {@code
 * KafkaProducer} compares) exceeds its {@code max.request.size}. The broker refuses a batch whose
 * stored (compressed) size exceeds the topic's {@code max.message.bytes}; lz4 stores an
 * incompressible 64 KiB block with a 4-byte header and adds 11 bytes of frame, so a record that is
 * framed within that limit less this growth is taken whatever its bytes.
 */
final class RecordLimits {

  /** The scoring producer's compression; {@link #limit} allows for its growth. */
  static final String COMPRESSION = "lz4";

  /**
   * The scoring producer's {@code max.request.size}: room for a dead letter as large as the input
   * topic's records (the dead-letter topic's own limit is the smaller one, see {@link #limit}).
   */
  static final int MAX_REQUEST_SIZE = Topic.LARGE_RECORD + 64 * 1024;

  /**
   * What a topic without its own {@code max.message.bytes} takes: Kafka's default {@code
   * message.max.bytes}. The deployments' brokers allow more (8 MiB); the smaller is assumed.
   */
  static final int BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 + Records.LOG_OVERHEAD;

  private static final int LZ4_BLOCK = 64 * 1024;
  private static final int LZ4_BLOCK_HEADER = 4;
  private static final int LZ4_FRAME = 7 + 4; // magic, flags, descriptor, header checksum; end mark

  private RecordLimits() {}

  /** The size the producer checks: the record framed alone in an uncompressed v2 batch. */
  static int framedSize(byte[] key, byte[] value, Header[] headers) {
    return AbstractRecords.estimateSizeInBytesUpperBound(
        RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE, key, value, headers);
  }

  /** The largest {@link #framedSize} that both the producer and {@code topic} take. */
  static int limit(Topic topic) {
    return limit(MAX_REQUEST_SIZE, maxMessageBytes(topic));
  }

  /**
   * The largest {@link #framedSize} that a producer with {@code maxRequestSize} (compressing with
   * lz4) and a topic with {@code maxMessageBytes} both take.
   */
  static int limit(int maxRequestSize, int maxMessageBytes) {
    return Math.min(maxRequestSize, maxMessageBytes - lz4Growth(maxMessageBytes));
  }

  /** The topic's {@code max.message.bytes} as the topic table creates it, else Kafka's default. */
  static int maxMessageBytes(Topic topic) {
    String own = topic.configs().get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
    return own == null ? BROKER_DEFAULT_MAX_MESSAGE_BYTES : Integer.parseInt(own);
  }

  /**
   * The most that lz4 adds to {@code size} bytes that do not compress: each 64 KiB block stored as
   * it is behind a 4-byte length, and the frame. Growth is monotonic, so a batch framed within
   * {@code max - lz4Growth(max)} compresses to at most {@code max}.
   */
  static int lz4Growth(int size) {
    return LZ4_FRAME + LZ4_BLOCK_HEADER * ((size + LZ4_BLOCK - 1) / LZ4_BLOCK);
  }
}
