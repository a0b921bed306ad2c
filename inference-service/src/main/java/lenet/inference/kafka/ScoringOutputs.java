package lenet.inference.kafka;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Writes predictions and dead letters and reports when Kafka has acknowledged each one, so the
 * scorer commits an input batch only after all its outputs are safe. A plain producer rather than
 * SmallRye's dead-letter queue: that one works per whole batch, and a dead letter here must be the
 * one bad record, byte for byte.
 */
@ApplicationScoped
public class ScoringOutputs {

  private static final Logger LOG = Logger.getLogger(ScoringOutputs.class);

  /** Why a record was dead-lettered: the reason name, a colon, and what exactly is wrong. */
  public static final String REASON_HEADER = "dead-letter-reason";

  public static final String TOPIC_HEADER = "dead-letter-topic";
  public static final String PARTITION_HEADER = "dead-letter-partition";
  public static final String OFFSET_HEADER = "dead-letter-offset";

  /**
   * Set when the original value had to be dropped because, with the headers, it exceeded the
   * broker's limit.
   */
  public static final String VALUE_DROPPED_HEADER = "dead-letter-value-dropped";

  private final String predictionsTopic;
  private final String deadLetterTopic;
  private final KafkaProducer<byte[], byte[]> producer;

  ScoringOutputs(
      Config mpConfig, @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
    Topics topics = Topics.from(mpConfig);
    this.predictionsTopic = topics.name(Topic.DIGITS_PREDICTIONS);
    this.deadLetterTopic = topics.name(Topic.DIGITS_IMAGES_DLQ);
    this.producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.CLIENT_ID_CONFIG,
                "inference-outputs",
                // At-least-once end to end: an output counts only once every in-sync replica has
                // it, and a
                // retried send never duplicates it.
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true,
                // A micro-batch of outputs leaves in one request or a few.
                ProducerConfig.LINGER_MS_CONFIG,
                2,
                ProducerConfig.COMPRESSION_TYPE_CONFIG,
                "lz4",
                // Dead letters carry the original record, which may be as large as the input topic
                // allows.
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                Topic.LARGE_RECORD + 64 * 1024),
            new ByteArraySerializer(),
            new ByteArraySerializer());
  }

  public String predictionsTopic() {
    return predictionsTopic;
  }

  public String deadLetterTopic() {
    return deadLetterTopic;
  }

  /** Sends a prediction keyed by the event id. */
  public CompletableFuture<Void> prediction(Prediction prediction) {
    return send(
        new ProducerRecord<>(
            predictionsTopic,
            prediction.id().getBytes(StandardCharsets.UTF_8),
            prediction.encode()));
  }

  /**
   * Sends {@code original} unchanged (key, value, headers) to the dead-letter topic with the reason
   * added.
   */
  public CompletableFuture<Void> deadLetter(
      ConsumerRecord<byte[], byte[]> original, WireFormatException why) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    send(deadLetterRecord(original, why, false))
        .whenComplete(
            (ok, failure) -> {
              if (failure instanceof RecordTooLargeException) {
                // Retrying the same record would fail forever and stall the partition: keep the
                // facts instead.
                LOG.warnf(
                    "Dead letter for %s-%d@%d is too large for '%s' with its headers; sending it without the value",
                    original.topic(), original.partition(), original.offset(), deadLetterTopic);
                send(deadLetterRecord(original, why, true))
                    .whenComplete((ok2, failure2) -> complete(done, failure2));
              } else {
                complete(done, failure);
              }
            });
    return done;
  }

  private ProducerRecord<byte[], byte[]> deadLetterRecord(
      ConsumerRecord<byte[], byte[]> original, WireFormatException why, boolean dropValue) {
    RecordHeaders headers = new RecordHeaders(original.headers().toArray());
    headers.add(REASON_HEADER, why.describe().getBytes(StandardCharsets.UTF_8));
    headers.add(TOPIC_HEADER, original.topic().getBytes(StandardCharsets.UTF_8));
    headers.add(
        PARTITION_HEADER, String.valueOf(original.partition()).getBytes(StandardCharsets.UTF_8));
    headers.add(OFFSET_HEADER, String.valueOf(original.offset()).getBytes(StandardCharsets.UTF_8));
    if (dropValue) {
      headers.add(VALUE_DROPPED_HEADER, "true".getBytes(StandardCharsets.UTF_8));
    }
    return new ProducerRecord<>(
        deadLetterTopic, null, original.key(), dropValue ? null : original.value(), headers);
  }

  private static void complete(CompletableFuture<Void> done, Throwable failure) {
    if (failure == null) {
      done.complete(null);
    } else {
      done.completeExceptionally(failure);
    }
  }

  private CompletableFuture<Void> send(ProducerRecord<byte[], byte[]> record) {
    CompletableFuture<Void> acked = new CompletableFuture<>();
    try {
      producer.send(record, (metadata, failure) -> complete(acked, failure));
    } catch (RuntimeException e) {
      acked.completeExceptionally(e);
    }
    return acked;
  }

  @PreDestroy
  void close() {
    producer.close(Duration.ofSeconds(10));
  }
}
