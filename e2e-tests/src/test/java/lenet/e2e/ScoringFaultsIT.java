package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topic;
import lenet.contract.wire.ImageEvent;
import lenet.kafka.KafkaNodes;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Exactly one answer per image event through faults, on a broker of its own (a process, data on
 * disk): kill -9 of the scoring service mid-stream, then a restart; and kill -9 of the broker
 * mid-stream, then a restart, with the same scoring process going on by itself and HTTP inference
 * answering while the broker is away. Each event is a real MNIST digit (one in 500 malformed, for
 * the dead-letter topic); every output is counted by a {@code read_committed} reader.
 */
class ScoringFaultsIT {

  static final int EVENTS = 30_000;
  static Services services;
  static int port;
  static Path dataDir;
  static int inferencePort;
  static MnistSet test;

  @BeforeAll
  static void startServices() throws Exception {
    port = KafkaNodes.onFreePorts(1).port(1);
    dataDir = Files.createTempDirectory(Path.of("target"), "scoring-faults-");
    services = new Services("127.0.0.1:" + port);
    services.startBroker("faults-broker", port, dataDir);
    Services.TOPICS.ensureAll(KafkaConnection.to(services.bootstrap));
    services.startIngestAndTrainer("faults-", Services.freePort(), Services.freePort());
    services.send(Topic.TRAINING_COMMANDS, "faults-model", "{\"runId\": \"faults-model\"}");
    await("a model to score with")
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> services.completed("faults-model") != null);
    inferencePort = Services.freePort();
    startInference();
    test = new MnistFiles(Path.of(Services.mnistDir()), true).ensurePresent().test();
  }

  @AfterAll
  static void stopServices() throws InterruptedException {
    services.close();
  }

  private static void startInference() throws Exception {
    services.start("faults-inference", "inference", inferencePort, "-Dinference.policy=latest");
    await("inference serves")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> Services.servingVersion(inferencePort) > 0);
  }

  @Test
  void killOfTheScoringServiceMidStreamLosesNothingAndAnswersNothingTwice() throws Exception {
    String tag = "kill-" + Long.toString(System.nanoTime(), 36) + "-";
    int bad = produce(tag);
    awaitAnswers(tag, EVENTS / 10, Duration.ofMinutes(1));
    services.kill("faults-inference");
    int atKill = answers(tag).values().stream().mapToInt(Integer::intValue).sum();
    startInference();
    Map<String, Integer> answered = awaitAnswers(tag, EVENTS, Duration.ofMinutes(3));
    assertExactlyOnce(tag, answered, bad);
    System.out.printf(
        "kill -9 of inference after %d of %d answers: %d answered, each once (read_committed)%n",
        atKill, EVENTS, answered.size());
  }

  @Test
  void brokerKilledMidStreamScoringResumesByItselfAndHttpKeepsAnswering() throws Exception {
    String tag = "broker-" + Long.toString(System.nanoTime(), 36) + "-";
    long pid = services.process("faults-inference").pid();
    int bad = produce(tag);
    awaitAnswers(tag, EVENTS / 10, Duration.ofMinutes(1));
    services.kill("faults-broker");
    String pixels =
        new String(ImageEvent.ofPixels("http-1", pixelsOf(0)).encode(), StandardCharsets.UTF_8);
    AtomicInteger httpOk = new AtomicInteger();
    long t0 = System.nanoTime();
    while (System.nanoTime() - t0 < Duration.ofSeconds(8).toNanos()) {
      HttpResponse<String> r =
          Services.post(inferencePort, "/api/predict", "application/json", pixels);
      if (r.statusCode() == 200) {
        httpOk.incrementAndGet();
      }
      Thread.sleep(250);
    }
    HttpResponse<String> ready = Services.get(inferencePort, "/q/health/ready");
    services.startBroker("faults-broker", port, dataDir);
    Map<String, Integer> answered = awaitAnswers(tag, EVENTS, Duration.ofMinutes(3));
    assertExactlyOnce(tag, answered, bad);
    assertThat(httpOk.get()).as("HTTP predictions while the broker is away").isGreaterThan(20);
    assertThat(ready.statusCode()).as("ready while Kafka is away").isEqualTo(200);
    assertThat(services.process("faults-inference").pid())
        .as("the same process resumed by itself")
        .isEqualTo(pid);
    System.out.printf(
        "kill -9 of the broker mid-stream (8 s): %d answered, each once; %d HTTP answers meanwhile%n",
        answered.size(), httpOk.get());
  }

  /**
   * The documented alternative, {@code inference.kafka.delivery=at-least-once}: a process of its
   * own on topics and a group of its own answers every event (without a fault, once).
   */
  @Test
  void atLeastOnceDeliveryAnswersEveryEvent() throws Exception {
    int port = Services.freePort();
    services.start(
        "faults-inference-alo",
        "inference",
        port,
        "-Dinference.policy=latest",
        "-Dinference.kafka.delivery=at-least-once",
        "-Dinference.kafka.group-id=alo",
        "-Dtopics.digits-images=alo.images",
        "-Dtopics.digits-predictions=alo.predictions",
        "-Dtopics.digits-images-dlq=alo.images.dlq");
    await("the at-least-once replica serves")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> Services.servingVersion(port) > 0);
    String tag = "alo-" + Long.toString(System.nanoTime(), 36) + "-";
    int n = 2_000;
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.writer(
            KafkaConnection.to(services.bootstrap), Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
      for (int i = 0; i < n; i++) {
        byte[] value =
            i % 500 == 499
                ? "{\"pixels\": [1, 2".getBytes(StandardCharsets.UTF_8)
                : ImageEvent.ofPixels(null, pixelsOf(i % test.count())).encode();
        producer.send(new ProducerRecord<>("alo.images", tag + i, value));
      }
      producer.flush();
    }
    Map<String, Integer> answered = new HashMap<>();
    await("every event answered")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              answered.clear();
              for (String t : new String[] {"alo.predictions", "alo.images.dlq"}) {
                for (ConsumerRecord<String, byte[]> r : services.readAll(t)) {
                  if (r.key() != null && r.key().startsWith(tag)) {
                    answered.merge(r.key(), 1, Integer::sum);
                  }
                }
              }
              return answered.size() >= n;
            });
    assertThat(answered).hasSize(n);
    assertThat(answered.values()).containsOnly(1);
    assertThat(Services.get(port, "/q/health/group/kafka").body()).contains("AT_LEAST_ONCE");
    services.kill("faults-inference-alo");
  }

  private static void assertExactlyOnce(String tag, Map<String, Integer> answered, int bad) {
    assertThat(answered).as("every event answered").hasSize(EVENTS);
    assertThat(answered.values()).as("each exactly once").containsOnly(1);
    long deadLetters =
        services.readAll(Services.TOPICS.name(Topic.DIGITS_IMAGES_DLQ)).stream()
            .filter(r -> r.key() != null && r.key().startsWith(tag))
            .count();
    assertThat(deadLetters).as("dead letters, once each").isEqualTo(bad);
  }

  /** Sends EVENTS events keyed {@code tag<i>}; one in 500 is malformed. Returns how many. */
  private static int produce(String tag) throws Exception {
    int bad = 0;
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.writer(
            KafkaConnection.to(services.bootstrap),
            Map.of(ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.ACKS_CONFIG, "all"))) {
      for (int i = 0; i < EVENTS; i++) {
        byte[] value;
        if (i % 500 == 499) {
          value = "{\"pixels\": [1, 2".getBytes(StandardCharsets.UTF_8);
          bad++;
        } else {
          value = ImageEvent.ofPixels(null, pixelsOf(i % test.count())).encode();
        }
        producer.send(
            new ProducerRecord<>(Services.TOPICS.name(Topic.DIGITS_IMAGES), tag + i, value));
      }
      producer.flush();
    }
    return bad;
  }

  /** Outputs (predictions and dead letters) per event key, as a read_committed reader sees them. */
  private static Map<String, Integer> answers(String tag) {
    Map<String, Integer> n = new HashMap<>();
    for (Topic t : new Topic[] {Topic.DIGITS_PREDICTIONS, Topic.DIGITS_IMAGES_DLQ}) {
      for (ConsumerRecord<String, byte[]> r : services.readAll(Services.TOPICS.name(t))) {
        if (r.key() != null && r.key().startsWith(tag)) {
          n.merge(r.key(), 1, Integer::sum);
        }
      }
    }
    return n;
  }

  private static Map<String, Integer> awaitAnswers(String tag, int atLeast, Duration within) {
    @SuppressWarnings("unchecked")
    Map<String, Integer>[] last = new Map[1];
    await(atLeast + " answers for " + tag)
        .atMost(within)
        .pollInterval(Duration.ofMillis(500))
        .until(() -> (last[0] = answers(tag)).size() >= atLeast);
    return last[0];
  }

  private static int[] pixelsOf(int i) {
    int[] pixels = new int[784];
    for (int p = 0; p < 784; p++) {
      pixels[p] = test.pixel(i, p);
    }
    return pixels;
  }
}
