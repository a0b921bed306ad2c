package lenet.inference.feedback;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.trace.SpanContext;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Json;
import lenet.contract.wire.Prediction;
import lenet.inference.config.InferenceConfig;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import lenet.support.kafka.KafkaTracing;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.Config;

/**
 * Puts each prediction answered over HTTP ({@code POST /api/predict}) on {@code digits.predictions}
 * too, so that its id can be labelled like a Kafka-scored one: the outcomes join finds it, and a
 * training run with feedback finds its image. The record is the prediction plus {@code "source":
 * "http"} and {@code "pixels"} (the 784 values 0..255 the model saw, as an image event carries
 * them), since an HTTP image is on no other topic.
 *
 * <p>Off the answer's path: the answer never waits for Kafka. A bounded queue feeds one thread that
 * hands records to an idempotent producer; while Kafka is away the producer holds what it can and
 * the queue the rest, and what finds both full is dropped and counted ({@code
 * inference_http_predictions_total{result="dropped"}}), as is a record Kafka refuses.
 */
@ApplicationScoped
public class HttpPredictionLog {

  /** Queued records waiting for the producer; more are dropped and counted. */
  static final int QUEUE = 10_000;

  private final boolean enabled;
  private final KafkaConnection kafka;
  private final String topic;
  private final ExecutorService sender;
  private final Counter written;
  private final Counter dropped;
  private final Counter failed;
  private KafkaProducer<String, byte[]> producer;

  HttpPredictionLog(
      KafkaConnection kafka, Config config, InferenceConfig settings, MeterRegistry registry) {
    this.enabled = settings.feedback().publishHttp();
    this.kafka = kafka;
    this.topic = Topics.from(config).name(Topic.DIGITS_PREDICTIONS);
    this.sender =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(QUEUE),
            r -> {
              Thread t = new Thread(r, "http-prediction-log");
              t.setDaemon(true);
              return t;
            });
    this.written = counter(registry, "written");
    this.dropped = counter(registry, "dropped");
    this.failed = counter(registry, "failed");
  }

  private static Counter counter(MeterRegistry registry, String result) {
    return Counter.builder("inference.http.predictions")
        .description("HTTP predictions put on digits.predictions, by result")
        .tag("result", result)
        .register(registry);
  }

  /**
   * Queues {@code prediction} of the model input {@code row} (values in [0,1]) for the topic;
   * returns at once.
   */
  public void log(Prediction prediction, float[] row) {
    log(prediction, row, SpanContext.getInvalid());
  }

  /** As {@link #log(Prediction, float[])}, the record in {@code trace} (its request's span). */
  public void log(Prediction prediction, float[] row, SpanContext trace) {
    if (!enabled) {
      return;
    }
    try {
      sender.execute(() -> send(prediction, row, trace));
    } catch (RejectedExecutionException e) {
      dropped.increment();
    }
  }

  /** The record's value: the prediction, its source and its pixels. */
  static byte[] encode(Prediction prediction, float[] row) {
    ObjectNode node = Json.MAPPER.valueToTree(prediction);
    node.put("source", "http");
    ArrayNode pixels = node.putArray("pixels");
    for (float v : row) {
      pixels.add(Math.round(Math.max(0f, Math.min(1f, v)) * 255f));
    }
    return Json.write(node);
  }

  private void send(Prediction prediction, float[] row, SpanContext trace) {
    try {
      producer()
          .send(
              new ProducerRecord<>(
                  topic,
                  null,
                  prediction.id(),
                  encode(prediction, row),
                  KafkaTracing.headers(trace)),
              (metadata, error) -> (error == null ? written : failed).increment());
    } catch (RuntimeException e) {
      // Buffer full past max.block.ms, or the producer closed at shutdown.
      dropped.increment();
    }
  }

  private synchronized KafkaProducer<String, byte[]> producer() {
    if (producer == null) {
      producer =
          KafkaClients.durableWriter(
              kafka,
              "inference-http-predictions",
              Map.of(
                  ProducerConfig.LINGER_MS_CONFIG, 20,
                  ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000));
    }
    return producer;
  }

  void close(@Observes ShutdownEvent e) throws InterruptedException {
    sender.shutdown();
    sender.awaitTermination(5, TimeUnit.SECONDS);
    synchronized (this) {
      if (producer != null) {
        producer.close(Duration.ofSeconds(5));
        producer = null;
      }
    }
  }
}
