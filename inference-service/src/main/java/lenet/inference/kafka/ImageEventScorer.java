package lenet.inference.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.ChannelRegistry;
import io.smallrye.reactive.messaging.PausableChannel;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import lenet.inference.config.InferenceConfig;
import lenet.inference.image.DigitImages;
import lenet.inference.model.ModelManager;
import lenet.inference.scoring.Scorer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Scores {@code digits.images} in micro-batches: each poll is decoded, its good events go through
 * one forward pass and become predictions, its bad events go unchanged to the dead-letter topic
 * with the reason in a header. The batch is acknowledged (its offsets committed) only after Kafka
 * acknowledged every output: at least once, exactly one prediction or dead letter per event.
 *
 * <p>The channel starts paused and resumes when the first model serves, so no event waits
 * unacknowledged for a model (which would trip the throttled commit strategy's age check) and none
 * is dropped or dead-lettered for lack of one.
 */
@ApplicationScoped
public class ImageEventScorer {

  private static final Logger LOG = Logger.getLogger(ImageEventScorer.class);

  /** The incoming channel; application.properties maps it to the image topic. */
  public static final String CHANNEL = "images";

  private final ModelManager models;
  private final Scorer scorer;
  private final ScoringOutputs outputs;
  private final ChannelRegistry channels;
  private final InferenceConfig config;
  private final MeterRegistry registry;
  private final DistributionSummary batchSizes;
  // Decoding PNGs and the forward pass must not run on the Kafka connector's event loop.
  private final ExecutorService worker =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "kafka-scorer"));

  ImageEventScorer(
      ModelManager models,
      Scorer scorer,
      ScoringOutputs outputs,
      ChannelRegistry channels,
      InferenceConfig config,
      MeterRegistry registry) {
    this.models = models;
    this.scorer = scorer;
    this.outputs = outputs;
    this.channels = channels;
    this.config = config;
    this.registry = registry;
    this.batchSizes =
        DistributionSummary.builder("inference.kafka.batch.size")
            .description("Image events per polled micro-batch")
            .register(registry);
  }

  void onStart(@Observes StartupEvent event) {
    models.firstModel().thenRun(this::resume);
  }

  void onStop(@Observes ShutdownEvent event) {
    worker.shutdownNow();
  }

  private void resume() {
    PausableChannel channel = channels.getPausable(CHANNEL);
    if (channel == null) {
      LOG.warnf(
          "Channel '%s' is not pausable; events received before the first model wait in the scorer",
          CHANNEL);
      return;
    }
    if (channel.isPaused()) {
      channel.resume();
      LOG.infof("A model serves: scoring image events from channel '%s' now", CHANNEL);
    }
  }

  @Incoming(CHANNEL)
  public CompletionStage<Void> score(KafkaRecordBatch<byte[], byte[]> batch) {
    return models
        .firstModel()
        .thenComposeAsync(ready -> scoreAndSend(batch), worker)
        .handle(
            (ok, failure) -> {
              if (failure == null) {
                return batch.ack();
              }
              Throwable cause =
                  failure instanceof CompletionException && failure.getCause() != null
                      ? failure.getCause()
                      : failure;
              LOG.errorf(
                  "Could not write the outputs of a batch of %d image events (%s); its offsets stay uncommitted so "
                      + "it is scored again after a restart. Check the broker and the topics '%s' and '%s'.",
                  batch.getRecords().size(),
                  cause,
                  outputs.predictionsTopic(),
                  outputs.deadLetterTopic());
              return batch.nack(cause);
            })
        .thenCompose(stage -> stage);
  }

  private CompletableFuture<Void> scoreAndSend(KafkaRecordBatch<byte[], byte[]> batch) {
    List<KafkaRecord<byte[], byte[]>> records = batch.getRecords();
    batchSizes.record(records.size());
    List<String> ids = new ArrayList<>(records.size());
    List<float[]> rows = new ArrayList<>(records.size());
    List<CompletableFuture<Void>> sends = new ArrayList<>(records.size());
    Map<String, Integer> deadLettered = new TreeMap<>();
    for (KafkaRecord<byte[], byte[]> message : records) {
      ConsumerRecord<byte[], byte[]> record = consumerRecord(message);
      String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
      try {
        ImageEvent event = ImageEvent.decode(record.value(), key, config.maxImageBytes());
        rows.add(DigitImages.toInput(event, config.maxImagePixels()));
        ids.add(event.id());
      } catch (WireFormatException e) {
        sends.add(outputs.deadLetter(record, e));
        deadLettered.merge(e.reason().name(), 1, Integer::sum);
        Counter.builder("inference.dead.letters")
            .description("Image events sent to the dead-letter topic, by reason")
            .tag("reason", e.reason().name())
            .register(registry)
            .increment();
        LOG.debugf(
            "Dead letter %s-%d@%d: %s",
            record.topic(), record.partition(), record.offset(), e.describe());
      }
    }
    if (!rows.isEmpty()) {
      for (Prediction p : scorer.predict(ids, rows.toArray(float[][]::new), Scorer.Source.KAFKA)) {
        sends.add(outputs.prediction(p));
      }
    }
    if (!deadLettered.isEmpty()) {
      LOG.warnf(
          "Sent %d of %d image events to '%s' %s; the producer must fix them (header '%s' says what is wrong)",
          deadLettered.values().stream().mapToInt(Integer::intValue).sum(),
          records.size(),
          outputs.deadLetterTopic(),
          deadLettered,
          ScoringOutputs.REASON_HEADER);
    }
    return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new));
  }

  @SuppressWarnings("unchecked")
  private static ConsumerRecord<byte[], byte[]> consumerRecord(
      KafkaRecord<byte[], byte[]> message) {
    return message
        .getMetadata(IncomingKafkaRecordMetadata.class)
        .map(m -> (ConsumerRecord<byte[], byte[]>) m.getRecord())
        .orElseThrow(
            () -> new IllegalStateException("an incoming Kafka record without its metadata"));
  }
}
