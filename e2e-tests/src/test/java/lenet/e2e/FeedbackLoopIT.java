package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Json;
import lenet.contract.wire.Label;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.SharedKafka;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pipeline learns from its users, with real processes on the real broker: a client sends digits
 * unlike MNIST's (test digits inverted: dark on light) and labels for half of them; the champion's
 * live accuracy drops and its drift is signalled; a retrain with feedback yields a candidate that
 * passes the dev gate, answers half the traffic as canary and is promoted on live accuracy, which
 * rises on the same kind of digits. The inference replica (and its outcomes join) is killed with -9
 * while labels are being joined: every label still has exactly one outcome.
 */
class FeedbackLoopIT {

  /** Drifted digits of the first phase (labels for half) and of the canary phase (all). */
  private static final int FIRST = 5000;

  private static final int SECOND = 3000;

  private static final String PREFIX = "feedback.";

  static Services services;
  static Topics topics;
  static int inferencePort;
  static MnistSet test;

  @BeforeAll
  static void startServices() throws Exception {
    String bootstrap = SharedKafka.bootstrapServers();
    Map<Topic, String> names = new EnumMap<>(Topic.class);
    for (Topic t : Topic.values()) {
      names.put(t, t.defaultName());
    }
    Map<String, String> env = new HashMap<>();
    for (Topic t :
        List.of(
            Topic.MODEL_CHECKPOINTS,
            Topic.MODEL_CONTROL,
            Topic.DIGITS_IMAGES,
            Topic.DIGITS_PREDICTIONS,
            Topic.DIGITS_IMAGES_DLQ,
            Topic.DIGITS_LABELS,
            Topic.DIGITS_OUTCOMES,
            Topic.MODEL_ACCURACY)) {
      names.put(t, PREFIX + t.defaultName());
      env.put(
          "TOPICS_" + t.defaultName().toUpperCase().replace('.', '_'), PREFIX + t.defaultName());
    }
    topics = new Topics(names);
    topics.ensureAll(KafkaConnection.to(bootstrap));
    Services.TOPICS.ensureAll(KafkaConnection.to(bootstrap));
    services = new Services(KafkaConnection.to(bootstrap), service -> env);
    services.startIngestAndTrainer("feedback-", Services.freePort(), Services.freePort());
    inferencePort = Services.freePort();
    startInference();
    test = new MnistFiles(Path.of(Services.mnistDir()), true).test();
  }

  /** The inference replica: canary on half the traffic, decisions looked at every second. */
  static void startInference() {
    services.start(
        "feedback-inference",
        "inference",
        inferencePort,
        "-Dinference.replica-id=feedback",
        "-Dinference.warm-up-passes=1",
        "-Dinference.gate.tolerance=0.02",
        "-Dinference.canary.fraction=0.5",
        "-Dinference.canary.min-labelled=100",
        "-Dinference.canary.check-every=1s",
        "-Dinference.drift.min-labelled=200",
        "-Dquarkus.kafka-streams.application-id=feedback-outcomes");
  }

  @AfterAll
  static void stopServices() {
    if (services != null) {
      services.close();
    }
  }

  @Test
  void driftIsSeenRetrainedOnFeedbackAndTheCanaryIsPromotedOnLiveAccuracy() throws Exception {
    // A champion trained on (a subset of) MNIST.
    services.send(Topic.TRAINING_COMMANDS, "fb-0", "{\"runId\": \"fb-0\", \"epochs\": 2}");
    long v1 = completed("fb-0").modelVersion();
    awaitServing(v1);

    // Phase 1: 5,000 inverted test digits, labels for every other one.
    send(0, FIRST);
    awaitPredictions("drift-", FIRST);
    int labelled1 = label(0, FIRST, 2);
    JsonNode live1 = awaitLabelled(v1, labelled1);
    double gate1 = gateAccuracy(v1);
    double drifted = live1.get("accuracy").asDouble();
    System.out.printf(
        "FEEDBACK champion v%d: gate %.4f, live %.4f [%.4f, %.4f] on %d inverted digits%n",
        v1,
        gate1,
        drifted,
        live1.get("interval").get(0).asDouble(),
        live1.get("interval").get(1).asDouble(),
        live1.get("labelled").asLong());
    assertThat(drifted).as("live accuracy on inverted digits").isLessThan(gate1 - 0.05);
    await("drift of v" + v1)
        .atMost(Duration.ofSeconds(60))
        .until(() -> history().stream().anyMatch(h -> isRecord(h, "DRIFT", v1)));

    // A retrain with feedback: the labelled inverted digits join the training split.
    services.send(
        Topic.TRAINING_COMMANDS,
        "fb-1",
        "{\"runId\": \"fb-1\", \"epochs\": 2, \"feedback\": {\"share\": 0.2}}");
    TrainingEvent.Completed retrained = completed("fb-1");
    long v2 = retrained.modelVersion();
    System.out.printf(
        "FEEDBACK retrain v%d: test %.4f, held-out feedback %s on %s images%n",
        v2, retrained.testAccuracy(), retrained.feedbackAccuracy(), retrained.feedbackImages());
    await("v" + v2 + " passes its gate and runs as canary")
        .atMost(Duration.ofMinutes(2))
        .until(() -> "CANARY".equals(status(v2)));
    assertThat(Services.servingVersion(inferencePort)).isEqualTo(v1);

    // Phase 2: 3,000 more inverted digits, all labelled; half are answered by the canary. The
    // replica, with its outcomes join, is killed with -9 while the labels are being joined.
    for (int i = FIRST; i < FIRST + SECOND; i += 100) { // small batches: many draws of the canary
      send(i, i + 100);
      Thread.sleep(50);
    }
    awaitPredictions("drift-", FIRST + SECOND);
    Map<Long, Long> answered = answeredBy(FIRST, FIRST + SECOND);
    System.out.printf("FEEDBACK phase 2 answers by version: %s%n", answered);
    assertThat(answered.keySet()).contains(v1, v2);
    // The labels go out over about 3 s; the replica is killed once the first of them are joined.
    int labelled2 = SECOND;
    Thread labeller =
        new Thread(
            () -> {
              try {
                for (int i = FIRST; i < FIRST + SECOND; i += 100) {
                  label(i, i + 100, 1);
                  Thread.sleep(100);
                }
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            "labeller");
    labeller.start();
    long[] joined = new long[1];
    await("the first labels of phase 2 joined")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> (joined[0] = outcomesFrom(FIRST)) > 0);
    services.kill("feedback-inference");
    System.out.printf(
        "FEEDBACK kill -9 of the replica with %d of %d phase-2 labels joined%n", joined[0], SECOND);
    assertThat(joined[0]).as("killed mid-join").isLessThan(SECOND);
    startInference();
    labeller.join(60_000);

    await("v" + v2 + " promoted on live accuracy")
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(1))
        .ignoreExceptions()
        .until(() -> Services.servingVersion(inferencePort) == v2);
    JsonNode promotion =
        history().stream().filter(h -> isRecord(h, "PROMOTE", v2)).findFirst().orElseThrow();
    System.out.printf("FEEDBACK %s%n", promotion.get("reason").asText());
    assertThat(promotion.get("reason").asText()).contains("promoted on live traffic");

    // Every label has exactly one outcome, through the kill -9 (read_committed). The promotion
    // needs only canary.min-labelled per side, so the join may still be catching up here.
    await("every label of phases 1 and 2 joined")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> outcomesFrom(0) >= labelled1 + labelled2);
    Map<String, Long> outcomes =
        services.readAll(topics.name(Topic.DIGITS_OUTCOMES)).stream()
            .collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
    assertThat(outcomes).hasSize(labelled1 + labelled2);
    assertThat(outcomes.values()).as("outcomes per label").containsOnly(1L);

    // The same kind of digits, scored by the new champion, are now mostly right.
    int third = 1000;
    long v2Labelled = liveOf(v2).path("labelled").asLong();
    send(FIRST + SECOND, FIRST + SECOND + third);
    awaitPredictions("drift-", FIRST + SECOND + third);
    label(FIRST + SECOND, FIRST + SECOND + third, 1);
    JsonNode after = awaitLabelled(v2, v2Labelled + third);
    JsonNode before = liveOf(v1);
    System.out.printf(
        "FEEDBACK live accuracy on inverted digits: v%d %.4f on %d, v%d %.4f on %d%n",
        v1,
        before.get("accuracy").asDouble(),
        before.get("labelled").asLong(),
        v2,
        after.get("accuracy").asDouble(),
        after.get("labelled").asLong());
    assertThat(after.get("accuracy").asDouble())
        .as("the champion trained on feedback, on inverted digits")
        .isGreaterThan(before.get("accuracy").asDouble() + 0.1);

    // Wrong labels: the first phase's ids are labelled again with another digit (the newest label
    // counts), a retrain with feedback learns them, passes the dev gate (MNIST is unchanged) and
    // goes to canary, where correctly labelled inverted digits show it worse: dropped.
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.writer(KafkaConnection.to(SharedKafka.bootstrapServers()), Map.of())) {
      for (int i = 0; i < FIRST; i += 2) {
        String id = "drift-" + i;
        int wrong = (test.labels()[i] + 3) % 10;
        producer.send(
            new ProducerRecord<>(
                topics.name(Topic.DIGITS_LABELS),
                id,
                new Label(id, wrong, "e2e-wrong", System.currentTimeMillis()).encode()));
      }
      producer.flush();
    }
    services.send(
        Topic.TRAINING_COMMANDS,
        "fb-2",
        "{\"runId\": \"fb-2\", \"epochs\": 2, \"feedback\": {\"share\": 0.2}}");
    long v3 = completed("fb-2").modelVersion();
    await("v" + v3 + " passes its gate and runs as canary")
        .atMost(Duration.ofMinutes(2))
        .until(() -> "CANARY".equals(status(v3)));
    int fourth = FIRST + SECOND + third;
    for (int i = fourth; i < test.count(); i += 50) { // small batches: many draws of the canary
      send(i, i + 50);
      label(i, i + 50, 1);
      Thread.sleep(100);
    }
    await("v" + v3 + " dropped on live accuracy")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> "REJECTED".equals(status(v3)));
    JsonNode drop =
        history().stream().filter(h -> isRecord(h, "REJECT", v3)).findFirst().orElseThrow();
    System.out.printf("FEEDBACK %s%n", drop.get("reason").asText());
    assertThat(drop.get("reason").asText()).contains("dropped on live traffic");
    assertThat(Services.servingVersion(inferencePort)).isEqualTo(v2);
    assertThat(models().get("champion").asLong()).isEqualTo(v2);
  }

  // ------------------------------------------------------------------------------ the client

  /** Inverted test digits {@code from..to-1} as image events {@code drift-<i>}. */
  private static void send(int from, int to) throws Exception {
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.writer(KafkaConnection.to(SharedKafka.bootstrapServers()), Map.of())) {
      for (int i = from; i < to; i++) {
        int[] pixels = new int[MnistSet.IMAGE_BYTES];
        for (int p = 0; p < pixels.length; p++) {
          pixels[p] = 255 - test.pixel(i % test.count(), p);
        }
        producer.send(
            new ProducerRecord<>(
                topics.name(Topic.DIGITS_IMAGES),
                "drift-" + i,
                ImageEvent.ofPixels("drift-" + i, pixels).encode()));
      }
      producer.flush();
    }
  }

  /** Labels digits {@code from..to-1} in steps of {@code step}, with their true digit. */
  private static int label(int from, int to, int step) throws Exception {
    int n = 0;
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.writer(KafkaConnection.to(SharedKafka.bootstrapServers()), Map.of())) {
      for (int i = from; i < to; i += step) {
        String id = "drift-" + i;
        int digit = test.labels()[i % test.count()];
        producer.send(
            new ProducerRecord<>(
                topics.name(Topic.DIGITS_LABELS),
                id,
                new Label(id, digit, "e2e", System.currentTimeMillis()).encode()));
        n++;
      }
      producer.flush();
    }
    return n;
  }

  private static void awaitPredictions(String prefix, int count) {
    await(count + " predictions")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                services.readAll(topics.name(Topic.DIGITS_PREDICTIONS)).stream()
                        .map(ConsumerRecord::key)
                        .filter(k -> k != null && k.startsWith(prefix))
                        .distinct()
                        .count()
                    >= count);
  }

  /** Outcomes on the topic (read_committed) of digits {@code from} and later. */
  private static long outcomesFrom(int from) {
    return services.readAll(topics.name(Topic.DIGITS_OUTCOMES)).stream()
        .map(ConsumerRecord::key)
        .filter(k -> k != null && Integer.parseInt(k.substring("drift-".length())) >= from)
        .count();
  }

  /** How many predictions of digits {@code from..to-1} each version gave. */
  private static Map<Long, Long> answeredBy(int from, int to) {
    Map<Long, Long> out = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r :
        services.readAll(topics.name(Topic.DIGITS_PREDICTIONS))) {
      String k = r.key();
      if (k != null && k.startsWith("drift-")) {
        int i = Integer.parseInt(k.substring("drift-".length()));
        if (i >= from && i < to) {
          out.merge(lenet.contract.wire.Prediction.decode(r.value()).modelVersion(), 1L, Long::sum);
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------ the service

  private static TrainingEvent.Completed completed(String runId) {
    TrainingEvent.Completed[] done = new TrainingEvent.Completed[1];
    await(runId + " completes")
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> (done[0] = services.completed(runId)) != null);
    return done[0];
  }

  private static void awaitServing(long version) {
    await("v" + version + " serves")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> Services.servingVersion(inferencePort) == version);
  }

  private static JsonNode models() throws Exception {
    return Json.MAPPER.readTree(Services.get(inferencePort, "/api/models").body());
  }

  /** {@code GET /api/models}' live figures of {@code version} (an empty object without). */
  private static JsonNode liveOf(long version) throws Exception {
    JsonNode live = models().path("live").path(String.valueOf(version));
    return live.isMissingNode() ? Json.MAPPER.createObjectNode() : live;
  }

  private static JsonNode awaitLabelled(long version, long labelled) {
    JsonNode[] live = new JsonNode[1];
    await("v" + version + " has " + labelled + " labelled outcomes")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofSeconds(1))
        .ignoreExceptions()
        .until(() -> (live[0] = liveOf(version)).path("labelled").asLong() >= labelled);
    return live[0];
  }

  private static double gateAccuracy(long version) throws Exception {
    for (JsonNode v : models().get("versions")) {
      if (v.get("version").asLong() == version) {
        return v.get("gate").get("accuracy").asDouble();
      }
    }
    throw new AssertionError("v" + version + " is not listed");
  }

  private static String status(long version) throws Exception {
    for (JsonNode v : models().get("versions")) {
      if (v.get("version").asLong() == version) {
        return v.get("status").asText();
      }
    }
    return null;
  }

  private static List<JsonNode> history() throws Exception {
    List<JsonNode> out = new java.util.ArrayList<>();
    models().get("history").forEach(out::add);
    return out;
  }

  private static boolean isRecord(JsonNode h, String type, long version) {
    return type.equals(h.path("type").asText()) && h.path("version").asLong() == version;
  }
}
