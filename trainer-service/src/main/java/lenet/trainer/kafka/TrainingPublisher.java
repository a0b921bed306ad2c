package lenet.trainer.kafka;

import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.CancelCommand;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.TrainingCommand;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.TrainingEvent.EpochMetrics;
import lenet.model.LeNet5;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import lenet.trainer.training.Training.Evaluation;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Everything the trainer writes to Kafka: progress events, versioned checkpoints and (for the HTTP
 * form) commands. Each send waits for the broker's acknowledgement (a run sends from its own
 * writer, {@code RunOutbox}, in order), so an event never claims a checkpoint that is not stored.
 */
@ApplicationScoped
public class TrainingPublisher {

  private static final Logger LOG = Logger.getLogger(TrainingPublisher.class);

  private final MutinyEmitter<byte[]> events;
  private final MutinyEmitter<byte[]> checkpoints;
  private final MutinyEmitter<byte[]> commands;
  private final KafkaConnection kafka;
  private final Topics topics;

  /** As the events and checkpoints channels (delivery.timeout.ms): a claim waits out an outage. */
  private static final Duration CLAIM_TIMEOUT = Duration.ofMinutes(15);

  private KafkaProducer<String, byte[]> claimProducer;

  /** The key every checkpoint and REJECT is signed with ({@code trainer.signing-key-file}). */
  private final KeyPair signingKeys;

  TrainingPublisher(
      @Channel("training-events") MutinyEmitter<byte[]> events,
      @Channel("model-checkpoints") MutinyEmitter<byte[]> checkpoints,
      @Channel("training-commands-out") MutinyEmitter<byte[]> commands,
      KafkaConnection kafka,
      Config config,
      TrainerKeys keys) {
    this.events = events;
    this.checkpoints = checkpoints;
    this.commands = commands;
    this.kafka = kafka;
    this.topics = Topics.from(config);
    this.signingKeys = keys.pair();
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
   * Publishes the parameters after an epoch as model {@code version} (from {@link #claimVersion}),
   * keyed {@code lenet5/v<version>}; sent again after a failure, it replaces itself.
   */
  public void sendCheckpoint(
      long version,
      String runId,
      int epoch,
      int epochs,
      EpochMetrics m,
      Evaluation test,
      byte[] parameters) {
    Checkpoint.Header header =
        Checkpoint.Header.lenet5(version)
            .runId(runId)
            .epoch(epoch, epochs)
            .parametersOf(parameters)
            .training(m.loss(), m.accuracy())
            .dev(m.devLoss(), m.devAccuracy())
            .test(test == null ? null : test.loss(), test == null ? null : test.accuracy())
            .build();
    byte[] value = new Checkpoint(header, parameters).encode();
    checkpoints.sendMessageAndAwait(
        keyed(
            Checkpoint.key(LeNet5.MODEL_NAME, version),
            value,
            CheckpointSignature.sign(value, signingKeys)));
  }

  /**
   * A version no other trainer (nor a retried send) can have: the trainer writes a small claim
   * record ({@code <model>/claim}) to the checkpoint topic, and the version is the offset Kafka
   * assigned it, plus one. Offsets on a partition are unique and grow, so versions are unique and
   * monotonic across runs, restarts and any number of trainers, and above every version written
   * before (each of which took an offset of its own on this topic). A claim whose acknowledgement
   * was lost only wastes a number.
   */
  public long claimVersion(String runId, int epoch) {
    String topic = topics.name(Topic.MODEL_CHECKPOINTS);
    byte[] claim =
        ("{\"runId\":\"" + runId + "\",\"epoch\":" + epoch + "}")
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return KafkaClients.acknowledged(
                durable(),
                new ProducerRecord<>(topic, Checkpoint.claimKey(LeNet5.MODEL_NAME), claim),
                CLAIM_TIMEOUT)
            .offset()
        + 1;
  }

  /**
   * Marks the checkpoints of run {@code runId}, which will never complete (cancelled), on {@code
   * model.control} with a REJECT verdict each, signed with the trainer's key (inference accepts a
   * trainer-signed record only as a REJECT of that run's own versions), so that no gate promotes
   * them and the model pages say why.
   */
  public void neverPromote(String runId, List<Long> versions, String by, String reason) {
    String topic = topics.name(Topic.MODEL_CONTROL);
    for (long v : versions) {
      ModelControl reject = ModelControl.cancelledRun(LeNet5.MODEL_NAME, v, runId, by, reason);
      byte[] value = reject.encode();
      KafkaClients.acknowledged(
          durable(),
          new ProducerRecord<>(
              topic, null, reject.key(), value, CheckpointSignature.sign(value, signingKeys)),
          CLAIM_TIMEOUT);
    }
  }

  private synchronized KafkaProducer<String, byte[]> durable() {
    if (claimProducer == null) {
      claimProducer =
          KafkaClients.durableWriter(
              kafka,
              "trainer-version-claims",
              Map.of(
                  ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                  (int) CLAIM_TIMEOUT.toMillis(),
                  ProducerConfig.MAX_BLOCK_MS_CONFIG,
                  CLAIM_TIMEOUT.toMillis()));
    }
    return claimProducer;
  }

  void onStop(@Observes ShutdownEvent event) {
    KafkaProducer<String, byte[]> p;
    synchronized (this) {
      p = claimProducer;
      claimProducer = null;
    }
    if (p != null) {
      p.close(Duration.ofSeconds(5));
    }
  }

  private static Message<byte[]> keyed(String key, byte[] value) {
    return keyed(key, value, new RecordHeaders());
  }

  private static Message<byte[]> keyed(String key, byte[] value, Headers headers) {
    return Message.of(value)
        .addMetadata(
            OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(key)
                .withHeaders(headers)
                .build());
  }
}
