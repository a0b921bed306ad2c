package lenet.inference.outcomes;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import lenet.contract.wire.Label;
import lenet.contract.wire.LiveAccuracy;
import lenet.contract.wire.Outcome;
import lenet.contract.wire.Prediction;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The outcomes join on Kafka Streams' test driver: a label meets its prediction whichever comes
 * first within the window; a label that meets none is counted when its window closes; an
 * undecodable label is counted and skipped; the join goes on after each.
 */
class OutcomesTopologyTest {

  private static final Duration WINDOW = Duration.ofMinutes(10);
  private static final Instant T0 = Instant.parse("2026-12-02T00:00:00Z");

  private SimpleMeterRegistry registry;
  private TopologyTestDriver driver;
  private TestInputTopic<String, byte[]> labels;
  private TestInputTopic<String, byte[]> predictions;
  private TestOutputTopic<String, byte[]> outcomes;

  @BeforeEach
  void start() {
    registry = new SimpleMeterRegistry();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "outcomes-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    driver =
        new TopologyTestDriver(
            OutcomesTopology.build(
                "labels",
                "predictions",
                "outcomes",
                "accuracy",
                WINDOW,
                new OutcomesTopology.Counts(registry)),
            props);
    labels = driver.createInputTopic("labels", new StringSerializer(), new ByteArraySerializer());
    predictions =
        driver.createInputTopic("predictions", new StringSerializer(), new ByteArraySerializer());
    outcomes =
        driver.createOutputTopic("outcomes", new StringDeserializer(), new ByteArrayDeserializer());
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  private static byte[] prediction(String id, int digit, long version) {
    float[] p = new float[10];
    p[digit] = 0.9f;
    p[(digit + 1) % 10] = 0.1f;
    return new Prediction(id, digit, 0.9f, p, version).encode();
  }

  private static byte[] label(String id, int digit) {
    return new Label(id, digit, "http", T0.toEpochMilli()).encode();
  }

  private double count(String result) {
    return registry.get("inference.outcomes.labels").tag("result", result).counter().count();
  }

  @Test
  void aLabelMeetsItsPredictionWhicheverComesFirst() {
    predictions.pipeInput("a", prediction("a", 3, 7), T0);
    labels.pipeInput("a", label("a", 3), T0.plusSeconds(30));
    labels.pipeInput("b", label("b", 5), T0.plusSeconds(40));
    predictions.pipeInput("b", prediction("b", 6, 8), T0.plusSeconds(50));

    var out = outcomes.readKeyValuesToList();
    assertThat(out).hasSize(2);
    Outcome a = Outcome.decode(out.get(0).value);
    assertThat(out.get(0).key).isEqualTo("a");
    assertThat(a).isEqualTo(new Outcome("a", 3, 3, 7, 0.9f, "http"));
    assertThat(a.correct()).isTrue();
    Outcome b = Outcome.decode(out.get(1).value);
    assertThat(b.predicted()).isEqualTo(6);
    assertThat(b.actual()).isEqualTo(5);
    assertThat(b.modelVersion()).isEqualTo(8);
    assertThat(count("matched")).isEqualTo(2);
  }

  @Test
  void liveAccuracyCountsTheNewestLabelOfEachImageOncePerVersion() {
    predictions.pipeInput("a", prediction("a", 3, 7), T0);
    predictions.pipeInput("b", prediction("b", 4, 7), T0);
    predictions.pipeInput("c", prediction("c", 5, 8), T0);
    labels.pipeInput("a", label("a", 3), T0.plusSeconds(1));
    labels.pipeInput("b", label("b", 9), T0.plusSeconds(2));
    labels.pipeInput("c", label("c", 5), T0.plusSeconds(3));
    // b was mislabelled: its new label replaces the old one, and counts once.
    labels.pipeInput("b", label("b", 4), T0.plusSeconds(4));

    var store = driver.<String, LiveAccuracy>getKeyValueStore(OutcomesTopology.ACCURACY_STORE);
    LiveAccuracy v7 = store.get("7");
    assertThat(v7.labelled()).isEqualTo(2);
    assertThat(v7.correct()).isEqualTo(2);
    assertThat(v7.confusion()[10 * 4 + 4]).isEqualTo(1);
    assertThat(v7.confusion()[10 * 9 + 4]).isZero();
    assertThat(v7.accuracy()).isEqualTo(1.0);
    assertThat(v7.meanConfidence()).isCloseTo(0.9, org.assertj.core.data.Offset.offset(1e-6));
    LiveAccuracy v8 = store.get("8");
    assertThat(v8.labelled()).isEqualTo(1);
    double[] ci = v8.interval();
    assertThat(ci[0]).isBetween(0.0, 1.0);
    assertThat(ci[1]).isEqualTo(1.0);
  }

  @Test
  void aLabelWithoutAPredictionIsCountedWhenItsWindowCloses() {
    labels.pipeInput("nobody", label("nobody", 1), T0);
    assertThat(outcomes.isEmpty()).isTrue();
    assertThat(count("unmatched")).isZero();
    // Stream time moves past the window: the label's wait is over.
    predictions.pipeInput("later", prediction("later", 2, 9), T0.plus(WINDOW).plusSeconds(61));
    labels.pipeInput("later", label("later", 2), T0.plus(WINDOW).plusSeconds(62));
    assertThat(count("unmatched")).isEqualTo(1);
    assertThat(outcomes.readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("later");
  }

  @Test
  void anUndecodableLabelIsCountedAndTheJoinGoesOn() {
    labels.pipeInput("x", "{not json".getBytes(StandardCharsets.UTF_8), T0);
    labels.pipeInput("y", label("not-y", 4), T0);
    predictions.pipeInput("z", prediction("z", 4, 1), T0);
    labels.pipeInput("z", label("z", 4), T0.plusSeconds(1));
    assertThat(count("undecodable")).isEqualTo(2);
    assertThat(outcomes.readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("z");
  }
}
