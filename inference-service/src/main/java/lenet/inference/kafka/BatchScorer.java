package lenet.inference.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import lenet.contract.image.DigitImages;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import lenet.inference.config.InferenceConfig;
import lenet.inference.scoring.Scorer;
import lenet.support.kafka.KafkaTracing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.jboss.logging.Logger;

/**
 * Turns one polled batch of image events into its outputs: the good events go through one forward
 * pass and become predictions, each bad one becomes a dead letter (the original record, the reason
 * in a header). No I/O: the worker writes the outputs, with the batch's offsets, in one
 * transaction.
 *
 * <p>An event's id is its {@code id}, else its record key, else {@code
 * <topic>-<partition>-<offset>}: the same event scored twice (at-least-once after a crash) gets the
 * same id, so duplicates can be told apart.
 */
final class BatchScorer {

  private static final Logger LOG = Logger.getLogger(BatchScorer.class);

  private final Scorer scorer;
  private final ScoringOutputs outputs;
  private final InferenceConfig config;
  private final MeterRegistry registry;
  private final DistributionSummary batchSizes;
  private final BatchTracing tracing;

  BatchScorer(
      Scorer scorer, ScoringOutputs outputs, InferenceConfig config, MeterRegistry registry) {
    this(scorer, outputs, config, registry, BatchTracing.OFF);
  }

  BatchScorer(
      Scorer scorer,
      ScoringOutputs outputs,
      InferenceConfig config,
      MeterRegistry registry,
      BatchTracing tracing) {
    this.tracing = tracing;
    this.scorer = scorer;
    this.outputs = outputs;
    this.config = config;
    this.registry = registry;
    this.batchSizes =
        DistributionSummary.builder("inference.kafka.batch.size")
            .description("Image events per polled micro-batch")
            .register(registry);
  }

  /** An event and the one record that answers it: its prediction or its dead letter. */
  record Answer(ConsumerRecord<byte[], byte[]> event, ProducerRecord<byte[], byte[]> record) {}

  /**
   * The answers of {@code records}, one per record: the bad events' dead letters first, then the
   * good events' predictions (a prediction too large to write becomes a {@code TOO_LARGE} dead
   * letter).
   */
  List<Answer> score(List<ConsumerRecord<byte[], byte[]>> records) {
    BatchTracing.Batch trace =
        tracing.start(records.isEmpty() ? "" : records.get(0).topic(), records);
    try {
      return score(records, trace);
    } catch (RuntimeException e) {
      trace.failed(e);
      throw e;
    } finally {
      trace.end();
    }
  }

  private List<Answer> score(
      List<ConsumerRecord<byte[], byte[]>> records, BatchTracing.Batch trace) {
    batchSizes.record(records.size());
    List<Integer> good = new ArrayList<>(records.size());
    List<String> ids = new ArrayList<>(records.size());
    List<float[]> rows = new ArrayList<>(records.size());
    List<Answer> out = new ArrayList<>(records.size());
    Map<String, Integer> deadLettered = new TreeMap<>();
    for (int i = 0; i < records.size(); i++) {
      ConsumerRecord<byte[], byte[]> record = records.get(i);
      try {
        ImageEvent event = decode(record);
        rows.add(toInput(event));
        ids.add(event.id());
        good.add(i);
        trace.event(i, event.id());
      } catch (WireFormatException e) {
        trace.event(i, idFallback(record));
        out.add(deadLetter(record, e, deadLettered, trace.headers(i)));
      }
    }
    if (!rows.isEmpty()) {
      List<Prediction> predictions =
          scorer.predict(ids, rows.toArray(float[][]::new), Scorer.Source.KAFKA);
      for (int j = 0; j < predictions.size(); j++) {
        int i = good.get(j);
        List<Header> traceHeaders = trace.headers(i);
        ProducerRecord<byte[], byte[]> prediction =
            outputs.prediction(predictions.get(j), traceHeaders);
        ConsumerRecord<byte[], byte[]> record = records.get(i);
        out.add(
            outputs
                .unfit(prediction)
                .map(e -> deadLetter(record, e, deadLettered, traceHeaders))
                .orElseGet(() -> new Answer(record, prediction)));
      }
      trace.scored(predictions.get(0).modelVersion());
    }
    if (!deadLettered.isEmpty()) {
      deadLettered.forEach(
          (reason, n) ->
              Counter.builder("inference.dead.letters")
                  .description(ScoringOutputs.DEAD_LETTERS)
                  .tag("reason", reason)
                  .register(registry)
                  .increment(n));
      LOG.warnf(
          "Sent %d of %d image events to '%s' %s; the producer must fix them (header '%s' says what is wrong)",
          deadLettered.values().stream().mapToInt(Integer::intValue).sum(),
          records.size(),
          outputs.deadLetterTopic(),
          deadLettered,
          ScoringOutputs.REASON_HEADER);
    }
    return out;
  }

  /** The minimal dead letter that stands for {@code answer}, which was refused for {@code why}. */
  ProducerRecord<byte[], byte[]> refused(Answer answer, Throwable why) {
    return outputs.refused(answer.event(), answer.record(), why);
  }

  private Answer deadLetter(
      ConsumerRecord<byte[], byte[]> record,
      WireFormatException e,
      Map<String, Integer> counts,
      List<Header> trace) {
    counts.merge(e.reason().name(), 1, Integer::sum);
    LOG.debugf(
        "Dead letter %s-%d@%d: %s",
        record.topic(), record.partition(), record.offset(), e.describe());
    // The original's own trace context, copied with its headers, stays when it has one.
    boolean traced = record.headers().lastHeader(KafkaTracing.TRACEPARENT) != null;
    return new Answer(record, outputs.deadLetter(record, e, traced ? List.of() : trace));
  }

  /**
   * A failure that is not a named format problem (a decoder bug, an image the JDK chokes on) is
   * still this one record's problem: it becomes its dead letter, so no event can stall its
   * partition by failing its batch again and again.
   */
  private ImageEvent decode(ConsumerRecord<byte[], byte[]> record) {
    try {
      if (isRaw(record)) {
        return ImageEvent.ofRaw(idFallback(record), record.value());
      }
      return ImageEvent.decode(record.value(), idFallback(record), config.maxImageBytes());
    } catch (WireFormatException e) {
      throw e;
    } catch (RuntimeException e) {
      throw unreadable(e);
    }
  }

  private float[] toInput(ImageEvent event) {
    try {
      return DigitImages.toInput(event, config.maxImagePixels());
    } catch (WireFormatException e) {
      throw e;
    } catch (RuntimeException e) {
      throw unreadable(e);
    }
  }

  private static WireFormatException unreadable(RuntimeException e) {
    return new WireFormatException(
        WireFormatException.Reason.UNDECODABLE_IMAGE, "image event could not be read: " + e, e);
  }

  /** A record in the binary form: header {@code content-type: application/x-mnist-u8}. */
  static boolean isRaw(ConsumerRecord<byte[], byte[]> record) {
    Header type = record.headers().lastHeader(ImageEvent.CONTENT_TYPE_HEADER);
    return type != null
        && type.value() != null
        && ImageEvent.RAW_CONTENT_TYPE.equals(
            new String(type.value(), StandardCharsets.UTF_8).trim());
  }

  /** The record key, else the record's place: deterministic, so a rescored event keeps its id. */
  static String idFallback(ConsumerRecord<byte[], byte[]> record) {
    if (record.key() != null && record.key().length > 0) {
      String key = new String(record.key(), StandardCharsets.UTF_8);
      if (!key.isBlank()) {
        return key;
      }
    }
    return record.topic() + "-" + record.partition() + "-" + record.offset();
  }
}
