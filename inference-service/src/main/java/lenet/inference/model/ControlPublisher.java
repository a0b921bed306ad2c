package lenet.inference.model;

import io.opentelemetry.api.trace.Span;
import java.time.Duration;
import java.util.Map;
import lenet.contract.wire.ModelControl;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import lenet.support.kafka.KafkaTracing;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;

/**
 * Writes model decisions to the control topic and retention tombstones to the checkpoint and
 * control topics. Control records and every tombstone are signed with the fleet's control key
 * ({@link ControlTrust}), or no replica would act on them. Each write waits for the broker's
 * acknowledgement (all in-sync replicas), so a decision that returns is durable and every replica
 * will apply it.
 */
final class ControlPublisher implements AutoCloseable {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final String controlTopic;
  private final String checkpointTopic;
  private final KafkaConnection kafka;
  private final ControlTrust trust;
  private KafkaProducer<String, byte[]> producer;

  ControlPublisher(
      KafkaConnection kafka, String controlTopic, String checkpointTopic, ControlTrust trust) {
    this.kafka = kafka;
    this.trust = trust;
    this.controlTopic = controlTopic;
    this.checkpointTopic = checkpointTopic;
  }

  String controlTopic() {
    return controlTopic;
  }

  /**
   * @throws IllegalStateException when the broker did not acknowledge it in 30 s
   */
  void publish(ModelControl record) {
    byte[] value = record.encode();
    send(controlTopic, record.key(), value, trust.sign(value));
  }

  /** Deletes a checkpoint version from the checkpoint topic (once compaction runs). */
  void deleteCheckpoint(String key) {
    send(checkpointTopic, key, null, trust.signTombstone(key));
  }

  /** Deletes a control record (a verdict on a deleted version). */
  void deleteControl(String key) {
    send(controlTopic, key, null, trust.signTombstone(key));
  }

  /** Sends a record in the current trace (its {@code traceparent}: the verdict's span). */
  private synchronized void send(String topic, String key, byte[] value, Headers headers) {
    KafkaTracing.inject(Span.current().getSpanContext(), headers);
    if (producer == null) {
      producer = KafkaClients.durableWriter(kafka, "inference-model-control", Map.of());
    }
    KafkaClients.acknowledged(
        producer, new ProducerRecord<>(topic, null, key, value, headers), TIMEOUT);
  }

  @Override
  public synchronized void close() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
      producer = null;
    }
  }
}
