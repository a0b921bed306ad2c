package lenet.trainer.kafka;

import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import lenet.trainer.runs.CommandIntake;
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

  private final CommandIntake intake;
  private static final Logger LOG = Logger.getLogger(CommandConsumer.class);

  private final ExecutorService thread =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "command-intake"));

  CommandConsumer(CommandIntake intake) {
    this.intake = intake;
  }

  @Incoming("training-commands")
  public CompletionStage<Void> onCommand(Message<byte[]> message) {
    @SuppressWarnings("unchecked")
    IncomingKafkaRecordMetadata<String, byte[]> meta =
        message.getMetadata(IncomingKafkaRecordMetadata.class).orElseThrow();
    return CompletableFuture.runAsync(
        () ->
            untilDone(
                meta.getOffset(),
                () ->
                    intake.accept(
                        meta.getKey(), message.getPayload(), meta.getOffset(), message::ack)),
        thread);
  }

  /**
   * Handles a command until it is handled: judging one reads and writes Kafka (its run's history,
   * its QUEUED or FAILED event), and a broker gone for longer than those calls wait must not end
   * the channel (a failed record stops it for good), so the command is tried again with backoff (1
   * s doubling to 30 s) for as long as the outage lasts.
   */
  private static void untilDone(long offset, Runnable handle) {
    long backoff = 1000;
    for (int attempt = 1; ; attempt++) {
      try {
        handle.run();
        return;
      } catch (RuntimeException e) {
        if (Thread.currentThread().isInterrupted()) {
          throw e;
        }
        LOG.warnf(
            "Command at offset %d not handled (attempt %d: %s); trying again in %d s",
            offset, attempt, e.getMessage(), backoff / 1000);
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException stop) {
          Thread.currentThread().interrupt();
          throw e;
        }
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  void onStop(@Observes ShutdownEvent event) {
    thread.shutdownNow();
  }
}
