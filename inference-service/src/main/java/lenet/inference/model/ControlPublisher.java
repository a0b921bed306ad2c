package lenet.inference.model;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import lenet.contract.topics.KafkaClients;
import lenet.contract.wire.ModelControl;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes model decisions to the control topic and retention tombstones to the checkpoint and
 * control topics. Each write waits for the broker's acknowledgement (all in-sync replicas), so a
 * decision that returns is durable and every replica will apply it.
 */
final class ControlPublisher implements AutoCloseable {

  private static final long TIMEOUT_SECONDS = 30;

  private final String controlTopic;
  private final String checkpointTopic;
  private final String bootstrap;
  private KafkaProducer<String, byte[]> producer;

  ControlPublisher(String bootstrap, String controlTopic, String checkpointTopic) {
    this.bootstrap = bootstrap;
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
    send(controlTopic, record.key(), record.encode());
  }

  /** Deletes a checkpoint version from the checkpoint topic (once compaction runs). */
  void deleteCheckpoint(String key) {
    send(checkpointTopic, key, null);
  }

  /** Deletes a control record (a verdict on a deleted version). */
  void deleteControl(String key) {
    send(controlTopic, key, null);
  }

  private synchronized void send(String topic, String key, byte[] value) {
    if (producer == null) {
      producer =
          KafkaClients.writer(
              bootstrap,
              Map.of(
                  ProducerConfig.ACKS_CONFIG,
                  "all",
                  ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                  true,
                  ProducerConfig.CLIENT_ID_CONFIG,
                  "inference-model-control"));
    }
    try {
      producer.send(new ProducerRecord<>(topic, key, value)).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while writing to " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "could not write "
              + key
              + " to '"
              + topic
              + "' on "
              + bootstrap
              + " ("
              + (e.getCause() == null ? e : e.getCause())
              + "); is the broker reachable?",
          e);
    }
  }

  @Override
  public synchronized void close() {
    if (producer != null) {
      producer.close(java.time.Duration.ofSeconds(5));
      producer = null;
    }
  }
}
