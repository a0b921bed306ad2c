package lenet.trainer.kafka;

import io.opentelemetry.context.Context;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import lenet.support.kafka.Backoff;
import lenet.support.kafka.KafkaTracing;
import lenet.support.kafka.Retry;
import lenet.trainer.runs.CommandIntake;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Hands each record of {@code training.commands} to the intake as it arrives, on a thread of its
 * own (the intake publishes events and waits for the broker), and acknowledges it when the intake
 * says so: when its run is over, so a trainer killed mid-run sees the command again on restart. The
 * throttled commit strategy commits only offsets below the oldest unacknowledged record.
 */
@ApplicationScoped
public class CommandConsumer {

  private static final Logger LOG = Logger.getLogger(CommandConsumer.class);

  private final CommandIntake intake;
  private final ExecutorService thread =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "command-intake"));

  private final boolean tracingOff;

  /**
   * @param tracingOff `true` (the default): tracing is off, the OpenTelemetry API a no-op. `false`
   *     turns it on: spans go over OTLP to `quarkus.otel.exporter.otlp.endpoint`, and the trace
   *     context travels in `traceparent` headers of the Kafka records (docs/tracing.md)
   */
  CommandConsumer(
      CommandIntake intake,
      @ConfigProperty(name = "quarkus.otel.sdk.disabled", defaultValue = "true")
          boolean tracingOff) {
    this.intake = intake;
    this.tracingOff = tracingOff;
  }

  @Incoming("training-commands")
  public CompletionStage<Void> onCommand(Message<byte[]> message) {
    @SuppressWarnings("unchecked")
    IncomingKafkaRecordMetadata<String, byte[]> meta =
        message.getMetadata(IncomingKafkaRecordMetadata.class).orElseThrow();
    // The sender's trace (its traceparent header), which the command's run continues.
    Context trace = tracingOff ? Context.root() : KafkaTracing.extract(meta.getHeaders());
    return CompletableFuture.runAsync(
        () ->
            // Judging a command reads and writes Kafka (its run's history, its QUEUED or FAILED
            // event); a broker gone for longer than those calls wait must not end the channel (a
            // failed record stops it for good), so it is tried again for as long as the outage
            // lasts.
            Retry.untilDone(
                Backoff.brokerOutage(),
                Retry.ANY,
                Retry.saying(
                    LOG::warn, "Command at offset " + meta.getOffset(), "the command waits"),
                () -> {
                  intake.accept(
                      meta.getKey(), message.getPayload(), meta.getOffset(), message::ack, trace);
                  return null;
                }),
        thread);
  }

  void onStop(@Observes ShutdownEvent event) {
    thread.shutdownNow();
  }
}
