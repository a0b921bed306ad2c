package lenet.trainer.kafka;

import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import lenet.trainer.runs.RunService;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Takes commands from {@code training.commands} one at a time. A run lasts minutes, so it does not
 * run on a messaging thread: it runs on the trainer's own thread, and the command is acknowledged
 * (its offset committed, commit-strategy=latest) only when the run has ended. A trainer killed
 * mid-run therefore sees the command again on restart and runs it again under the same run id.
 */
@ApplicationScoped
public class CommandConsumer {

  private final RunService runs;
  private final ExecutorService runner =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "training-run"));

  CommandConsumer(RunService runs) {
    this.runs = runs;
  }

  @Incoming("training-commands")
  public CompletionStage<Void> onCommand(Message<byte[]> message) {
    @SuppressWarnings("unchecked")
    IncomingKafkaRecordMetadata<String, byte[]> meta =
        message.getMetadata(IncomingKafkaRecordMetadata.class).orElseThrow();
    return CompletableFuture.runAsync(
            () -> runs.execute(meta.getKey(), message.getPayload(), meta.getOffset()), runner)
        .thenCompose(done -> message.ack());
  }

  void onStop(@Observes ShutdownEvent event) {
    runner.shutdownNow();
  }
}
