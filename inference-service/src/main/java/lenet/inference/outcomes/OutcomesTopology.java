package lenet.inference.outcomes;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.time.Duration;
import java.util.List;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Label;
import lenet.contract.wire.LiveAccuracy;
import lenet.contract.wire.Outcome;
import lenet.contract.wire.Prediction;
import lenet.inference.config.InferenceConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.state.KeyValueStore;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * The outcomes join, a Kafka Streams topology (Quarkus runs it, exactly_once_v2): each label on
 * {@code digits.labels} joined with the prediction of the same id on {@code digits.predictions}
 * within {@code inference.outcomes.window} of it (either first) into one {@link Outcome} on {@code
 * digits.outcomes}. Both inputs are keyed by the image's id and have the same partitions, so the
 * join needs no repartitioning and scales out by partitions with the inference replicas (one
 * Streams group, {@code inference-outcomes}). The window's two stores live in RocksDB with
 * changelog topics, so a replica killed mid-join loses and doubles nothing.
 *
 * <p>Nothing is lost silently: a label no prediction met within the window (an unknown id, an HTTP
 * prediction, which is not on Kafka, or a label later than the window) is counted as {@code
 * unmatched} when its window closes; a record that does not decode is counted as {@code
 * undecodable} and skipped ({@code inference_outcomes_labels_total{result}}). A label sent twice
 * gives two outcomes under one key; the topic is compacted, so the newest counts.
 */
@ApplicationScoped
public class OutcomesTopology {

  private static final Logger LOG = Logger.getLogger(OutcomesTopology.class);

  /** The store every replica reads live accuracy from: version to {@link LiveAccuracy}. */
  public static final String ACCURACY_STORE = "live-accuracy";

  /** What became of a label in the join. */
  record Joined(Label label, Prediction prediction) {}

  @Produces
  Topology topology(InferenceConfig config, Config mp, MeterRegistry registry) {
    Topics topics = Topics.from(mp);
    return build(
        topics.name(Topic.DIGITS_LABELS),
        topics.name(Topic.DIGITS_PREDICTIONS),
        topics.name(Topic.DIGITS_OUTCOMES),
        topics.name(Topic.MODEL_ACCURACY),
        config.outcomes().window(),
        new Counts(registry));
  }

  /** The meters of the join. */
  static final class Counts {
    final Counter matched;
    final Counter unmatched;
    final Counter undecodable;

    Counts(MeterRegistry registry) {
      matched = counter(registry, "matched");
      unmatched = counter(registry, "unmatched");
      undecodable = counter(registry, "undecodable");
    }

    private static Counter counter(MeterRegistry registry, String result) {
      return Counter.builder("inference.outcomes.labels")
          .description("Labels through the outcomes join, by what became of them")
          .tag("result", result)
          .register(registry);
    }
  }

  static Topology build(
      String labelsTopic,
      String predictionsTopic,
      String outcomesTopic,
      String accuracyTopic,
      Duration window,
      Counts counts) {
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, Label> labels =
        builder.stream(labelsTopic, Consumed.with(Serdes.String(), Serdes.ByteArray()))
            .flatMapValues(
                (id, value) -> {
                  try {
                    Label l = Label.decode(value);
                    if (id == null || !id.equals(l.id())) {
                      throw new IllegalArgumentException("its key is not its id");
                    }
                    return List.of(l);
                  } catch (RuntimeException e) {
                    counts.undecodable.increment();
                    LOG.warnf("Label %s skipped: %s", id, e.getMessage());
                    return List.<Label>of();
                  }
                });
    KStream<String, Prediction> predictions =
        builder.stream(predictionsTopic, Consumed.with(Serdes.String(), Serdes.ByteArray()))
            .flatMapValues(
                value -> {
                  try {
                    return List.of(Prediction.decode(value));
                  } catch (RuntimeException e) {
                    return List.<Prediction>of();
                  }
                });
    KStream<String, Outcome> outcomes =
        labels
            .leftJoin(
                predictions,
                Joined::new,
                JoinWindows.ofTimeDifferenceWithNoGrace(window),
                StreamJoined.<String, Label, Prediction>with(
                        Serdes.String(),
                        new JsonSerde<>(Label::encode, Label::decode),
                        new JsonSerde<>(Prediction::encode, Prediction::decode))
                    .withStoreName("outcomes-join"))
            .flatMapValues(
                j -> {
                  if (j.prediction() == null) {
                    counts.unmatched.increment();
                    return List.<Outcome>of();
                  }
                  counts.matched.increment();
                  return List.of(Outcome.of(j.label(), j.prediction()));
                });
    outcomes
        .mapValues(Outcome::encode)
        .to(outcomesTopic, Produced.with(Serdes.String(), Serdes.ByteArray()));
    // Live accuracy per version: the newest outcome of each image (a changed label replaces the
    // old one: it is taken back from its version's figures), summed per version.
    JsonSerde<Outcome> outcomeSerde = new JsonSerde<>(Outcome::encode, Outcome::decode);
    JsonSerde<LiveAccuracy> accuracySerde =
        new JsonSerde<>(LiveAccuracy::encode, LiveAccuracy::decode);
    outcomes
        .toTable(
            Named.as("outcomes-by-id"),
            Materialized.<String, Outcome, KeyValueStore<Bytes, byte[]>>as("outcomes-by-id")
                .withKeySerde(Serdes.String())
                .withValueSerde(outcomeSerde))
        .groupBy(
            (id, o) -> KeyValue.pair(String.valueOf(o.modelVersion()), o),
            Grouped.with("outcomes-by-version", Serdes.String(), outcomeSerde))
        .aggregate(
            () -> null,
            (version, o, agg) -> (agg == null ? LiveAccuracy.none(o.modelVersion()) : agg).add(o),
            (version, o, agg) ->
                (agg == null ? LiveAccuracy.none(o.modelVersion()) : agg).remove(o),
            Materialized.<String, LiveAccuracy, KeyValueStore<Bytes, byte[]>>as(
                    "accuracy-by-version")
                .withKeySerde(Serdes.String())
                .withValueSerde(accuracySerde))
        .toStream()
        .to(accuracyTopic, Produced.with(Serdes.String(), accuracySerde));
    // Every replica holds every version's figures, read back from the accuracy topic.
    builder.globalTable(
        accuracyTopic,
        Consumed.with(Serdes.String(), accuracySerde),
        Materialized.<String, LiveAccuracy, KeyValueStore<Bytes, byte[]>>as(ACCURACY_STORE)
            .withKeySerde(Serdes.String())
            .withValueSerde(accuracySerde));
    return builder.build();
  }
}
