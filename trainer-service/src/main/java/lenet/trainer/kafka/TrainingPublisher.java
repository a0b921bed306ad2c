package lenet.trainer.kafka;

import io.opentelemetry.api.trace.Span;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.OutgoingMessageMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.KeyPair;
import lenet.contract.wire.CancelCommand;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.TrainingCommand;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.TrainingEvent.EpochMetrics;
import lenet.model.LeNet5;
import lenet.support.kafka.KafkaTracing;
import lenet.trainer.training.Evaluation;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Everything the trainer writes to Kafka: progress events, version claims and versioned
 * checkpoints, and (for the HTTP form) commands. Each send waits for the broker's acknowledgement
 * (a run sends from its own writer, {@code RunOutbox}, in order), so an event never claims a
 * checkpoint that is not stored.
 *
 * <p>One style: every write goes through a SmallRye channel ({@code application.properties} says
 * where and how: {@code acks=all}, idempotent, waiting out a 15-minute outage). Nothing the trainer
 * writes needs what only a plain producer gives: no write is part of a transaction, and the one
 * answer a write must return, the offset Kafka gave a version claim, comes back on the message
 * ({@link OutgoingMessageMetadata}, filled by the Kafka connector with the record's metadata).
 * Ordering holds because each write is awaited before the next. (Inference's scoring is the
 * opposite case: outputs and consumed offsets in one transaction per worker, so it uses plain
 * clients.)
 */
@ApplicationScoped
public class TrainingPublisher {

  private final MutinyEmitter<byte[]> events;
  private final MutinyEmitter<byte[]> checkpoints;
  private final MutinyEmitter<byte[]> commands;

  /** The key every checkpoint is signed with ({@code trainer.signing-key-file}). */
  private final KeyPair signingKeys;

  TrainingPublisher(
      @Channel("training-events") MutinyEmitter<byte[]> events,
      @Channel("model-checkpoints") MutinyEmitter<byte[]> checkpoints,
      @Channel("training-commands-out") MutinyEmitter<byte[]> commands,
      TrainerKeys keys) {
    this.events = events;
    this.checkpoints = checkpoints;
    this.commands = commands;
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
            .feedback(m.feedbackAccuracy(), m.feedbackImages())
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
    byte[] claim =
        ("{\"runId\":\"" + runId + "\",\"epoch\":" + epoch + "}")
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    OutgoingMessageMetadata<RecordMetadata> written = new OutgoingMessageMetadata<>();
    checkpoints.sendMessageAndAwait(
        keyed(Checkpoint.claimKey(LeNet5.MODEL_NAME), claim, new RecordHeaders())
            .addMetadata(written));
    return written.getResult().offset() + 1;
  }

  private static Message<byte[]> keyed(String key, byte[] value) {
    return keyed(key, value, new RecordHeaders());
  }

  /** A record of {@code key}, {@code value} and {@code headers}, in the current trace. */
  private static Message<byte[]> keyed(String key, byte[] value, Headers headers) {
    KafkaTracing.inject(Span.current().getSpanContext(), headers);
    return Message.of(value)
        .addMetadata(
            OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(key)
                .withHeaders(headers)
                .build());
  }
}
