package lenet.inference.feedback;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Label;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.Config;

/**
 * Writes labels to {@code digits.labels} (key = the image's id), acknowledged by the in-sync
 * replicas ({@code acks=all}, idempotent) before the sender hears 202; one producer, made on first
 * use and closed at shutdown.
 */
@ApplicationScoped
public class LabelWriter {

  private final KafkaConnection kafka;
  private final String topic;
  private KafkaProducer<String, byte[]> producer;

  LabelWriter(KafkaConnection kafka, Config config) {
    this.kafka = kafka;
    this.topic = Topics.from(config).name(Topic.DIGITS_LABELS);
  }

  /** Completes once the label is on the topic; fails when Kafka refuses or times out. */
  CompletionStage<Label> write(Label label) {
    CompletableFuture<Label> done = new CompletableFuture<>();
    try {
      producer()
          .send(
              new ProducerRecord<>(topic, label.id(), label.encode()),
              (metadata, error) -> {
                if (error == null) {
                  done.complete(label);
                } else {
                  done.completeExceptionally(error);
                }
              });
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
    }
    return done;
  }

  private synchronized KafkaProducer<String, byte[]> producer() {
    if (producer == null) {
      producer = KafkaClients.durableWriter(kafka, "inference-labels", Map.of());
    }
    return producer;
  }

  synchronized void close(@Observes ShutdownEvent e) {
    if (producer != null) {
      producer.close(java.time.Duration.ofSeconds(5));
      producer = null;
    }
  }
}
