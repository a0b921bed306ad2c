package lenet.trainer.kafka;

import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import lenet.contract.model.LeNet5;
import lenet.contract.topics.KafkaClients;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.CancelCommand;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.TrainingCommand;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.TrainingEvent.EpochMetrics;
import lenet.trainer.training.Training.Evaluation;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Everything the trainer writes to Kafka: progress events, versioned checkpoints and (for the HTTP
 * form) commands. Each send waits for the broker's acknowledgement, so an event never claims a
 * checkpoint that is not stored.
 */
@ApplicationScoped
public class TrainingPublisher {

  private static final Logger LOG = Logger.getLogger(TrainingPublisher.class);

  private final MutinyEmitter<byte[]> events;
  private final MutinyEmitter<byte[]> checkpoints;
  private final MutinyEmitter<byte[]> commands;
  private final String bootstrap;
  private final Topics topics;
  private long lastVersion = -1;

  TrainingPublisher(
      @Channel("training-events") MutinyEmitter<byte[]> events,
      @Channel("model-checkpoints") MutinyEmitter<byte[]> checkpoints,
      @Channel("training-commands-out") MutinyEmitter<byte[]> commands,
      @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap,
      Config config) {
    this.events = events;
    this.checkpoints = checkpoints;
    this.commands = commands;
    this.bootstrap = bootstrap;
    this.topics = Topics.from(config);
  }

  public void event(TrainingEvent event) {
    events.sendMessageAndAwait(keyed(event.runId(), event.encode()));
  }

  public void command(String runId, TrainingCommand command) {
    commands.sendMessageAndAwait(keyed(runId, command.encode()));
  }

  /** Publishes {@code {"cancel": runId}} to the command topic. */
  public void cancel(String runId) {
    commands.sendMessageAndAwait(keyed(runId, new CancelCommand(runId).encode()));
  }

  /**
   * Publishes the parameters after an epoch as the next model version, and returns that version.
   */
  public synchronized long checkpoint(
      String runId, int epoch, int epochs, EpochMetrics m, Evaluation test, byte[] parameters) {
    long version = nextVersion();
    Checkpoint.Header header =
        new Checkpoint.Header(
            LeNet5.MODEL_NAME,
            version,
            runId,
            epoch,
            epochs,
            LeNet5.ARCHITECTURE_ID,
            LeNet5.TOTAL_PARAMETERS,
            Checkpoint.sha256(parameters),
            System.currentTimeMillis(),
            m.loss(),
            m.accuracy(),
            m.devLoss(),
            m.devAccuracy(),
            test == null ? null : test.loss(),
            test == null ? null : test.accuracy());
    checkpoints.sendMessageAndAwait(
        keyed(
            Checkpoint.key(LeNet5.MODEL_NAME, version),
            new Checkpoint(header, parameters).encode()));
    lastVersion = version;
    return version;
  }

  /**
   * Versions continue from the newest checkpoint on Kafka, so they stay monotonic across trainer
   * restarts.
   */
  private long nextVersion() {
    if (lastVersion < 0) {
      lastVersion = newestVersionOnKafka();
      LOG.infof(
          "Newest model version on Kafka is %d; the next checkpoint is version %d",
          lastVersion, lastVersion + 1);
    }
    return lastVersion + 1;
  }

  private long newestVersionOnKafka() {
    TopicPartition tp = new TopicPartition(topics.name(Topic.MODEL_CHECKPOINTS), 0);
    try (KafkaConsumer<String, byte[]> consumer = KafkaClients.reader(bootstrap)) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      long newest = 0;
      while (consumer.position(tp) < end) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.value() == null) {
            continue; // a retention tombstone: that version was deleted, a newer one exists
          }
          try {
            newest = Math.max(newest, Checkpoint.decode(r.value()).header().modelVersion());
          } catch (RuntimeException e) {
            LOG.warnf(
                "Skipping unreadable checkpoint at offset %d: %s", r.offset(), e.getMessage());
          }
        }
      }
      return newest;
    }
  }

  private static Message<byte[]> keyed(String key, byte[] value) {
    return Message.of(value)
        .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(key).build());
  }
}
