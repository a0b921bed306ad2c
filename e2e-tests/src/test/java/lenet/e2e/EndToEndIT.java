package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lenet.contract.mnist.MnistFiles;
import lenet.contract.mnist.MnistSet;
import lenet.contract.topics.KafkaClients;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.SharedKafka;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged services as a user runs them ({@code java -jar .../quarkus-run.jar}), each its own
 * process, on a real broker, with a small real MNIST subset: ingest -> train -> publish -> hot-load
 * -> score, then a retrain from the command topic served without a restart, and bad events in the
 * dead-letter topic.
 */
class EndToEndIT {

  static final Path REPO = Path.of(System.getProperty("repo.dir", ".."));
  static final Path LOGS = Path.of("target", "e2e-logs");
  static final Topics TOPICS = Topics.defaults();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final List<Process> PROCESSES = new ArrayList<>();
  static String bootstrap;
  static int inferencePort;
  static int trainerPort;
  static int ingestPort;

  @BeforeAll
  static void startServices() throws Exception {
    bootstrap = SharedKafka.bootstrapServers();
    TOPICS.ensureAll(bootstrap);
    Files.createDirectories(LOGS);
    String mnist = System.getProperty("mnist.dir", REPO.resolve("data/mnist").toString());
    new MnistFiles(Path.of(mnist), true).ensurePresent();
    ingestPort = freePort();
    trainerPort = freePort();
    inferencePort = freePort();
    start(
        "ingest",
        ingestPort,
        "-Dingest.data-dir=" + mnist,
        "-Dingest.max-train-images=6000",
        "-Dingest.max-test-images=1000");
    // Small data, two epochs: plain images converge fastest (augmentation is for full-data runs).
    start(
        "trainer",
        trainerPort,
        "-Dtrainer.epochs=2",
        "-Dtrainer.batch-size=64",
        "-Dtrainer.augment-shift=0");
    start("inference", inferencePort);
    for (int port : new int[] {ingestPort, trainerPort, inferencePort}) {
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(() -> get(port, "/q/health/live").statusCode() == 200);
    }
  }

  private static void start(String name, int port, String... props) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    cmd.add("-Dai.djl.pytorch.num_threads=1");
    cmd.add("-Dquarkus.http.port=" + port);
    cmd.add("-Dkafka.bootstrap.servers=" + bootstrap);
    cmd.addAll(List.of(props));
    cmd.add("-jar");
    cmd.add(REPO.resolve(name + "-service/target/quarkus-app/quarkus-run.jar").toString());
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(LOGS.resolve(name + ".log").toFile())
            .start();
    PROCESSES.add(p);
  }

  @AfterAll
  static void stopServices() throws InterruptedException {
    for (Process p : PROCESSES) {
      p.destroy();
    }
    for (Process p : PROCESSES) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  @Test
  void trainsServesScoresRetrainsAndDeadLetters() throws Exception {
    // 1. A run commanded over Kafka, as a user would with kcat.
    send(Topic.TRAINING_COMMANDS, "e2e-1", "{\"runId\": \"e2e-1\", \"epochs\": 2}");
    TrainingEvent first = awaitCompleted("e2e-1");
    assertThat(first.testAccuracy()).isGreaterThan(0.85);
    long v1 = first.modelVersion();
    await().atMost(Duration.ofMinutes(1)).until(() -> servingVersion() == v1);
    long inferencePid = PROCESSES.get(2).pid();

    // 2. Image events scored in micro-batches; bad ones dead-lettered with a reason.
    MnistSet test =
        new MnistFiles(
                Path.of(System.getProperty("mnist.dir", REPO.resolve("data/mnist").toString())),
                true)
            .test();
    Map<String, Integer> truth = new HashMap<>();
    try (KafkaProducer<String, byte[]> producer = producer()) {
      for (int i = 0; i < 100; i++) {
        int[] pixels = new int[784];
        for (int p = 0; p < 784; p++) {
          pixels[p] = test.pixel(i, p);
        }
        String id = "e2e-img-" + i;
        truth.put(id, (int) test.labels()[i]);
        producer.send(
            new ProducerRecord<>(
                TOPICS.name(Topic.DIGITS_IMAGES), id, ImageEvent.ofPixels(id, pixels).encode()));
      }
      producer.send(
          new ProducerRecord<>(
              TOPICS.name(Topic.DIGITS_IMAGES),
              "e2e-bad-1",
              "not json".getBytes(StandardCharsets.UTF_8)));
      producer.send(
          new ProducerRecord<>(
              TOPICS.name(Topic.DIGITS_IMAGES),
              "e2e-bad-2",
              "{\"pixels\": [1, 2, 3]}".getBytes(StandardCharsets.UTF_8)));
      producer.flush();
    }
    Map<String, Prediction> predictions = new HashMap<>();
    await()
        .atMost(Duration.ofMinutes(1))
        .until(
            () -> {
              predictions.clear();
              for (ConsumerRecord<String, byte[]> r :
                  readAll(TOPICS.name(Topic.DIGITS_PREDICTIONS))) {
                if (r.key() != null && r.key().startsWith("e2e-img-")) {
                  Prediction p = Prediction.decode(r.value());
                  predictions.put(r.partition() + "@" + r.offset(), p);
                }
              }
              return predictions.values().stream().map(Prediction::id).distinct().count() == 100;
            });
    assertThat(predictions).as("exactly one prediction per event").hasSize(100);
    long correct =
        predictions.values().stream().filter(p -> truth.get(p.id()) == p.digit()).count();
    assertThat(correct).isGreaterThanOrEqualTo(85);
    assertThat(predictions.values()).allSatisfy(p -> assertThat(p.modelVersion()).isEqualTo(v1));

    List<ConsumerRecord<String, byte[]>> dead = readAll(TOPICS.name(Topic.DIGITS_IMAGES_DLQ));
    Map<String, String> reasons = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : dead) {
      Header h = r.headers().lastHeader("dead-letter-reason");
      reasons.put(r.key(), h == null ? null : new String(h.value(), StandardCharsets.UTF_8));
      if ("e2e-bad-1".equals(r.key())) {
        assertThat(new String(r.value(), StandardCharsets.UTF_8)).isEqualTo("not json");
      }
    }
    assertThat(reasons.get("e2e-bad-1")).contains("MALFORMED_JSON");
    assertThat(reasons.get("e2e-bad-2")).contains("WRONG_PIXEL_COUNT");

    // 3. A retrain from the command topic (the same settings and seed: on CPU the same model, so
    // the gate finds it as good as the champion): only its final epoch, once gated, serves, in the
    // same process, without a restart. Its epoch 1 (worse) never serves.
    send(Topic.TRAINING_COMMANDS, "e2e-2", "{\"runId\": \"e2e-2\", \"epochs\": 2}");
    java.util.Set<Long> served = new java.util.TreeSet<>();
    TrainingEvent[] second = new TrainingEvent[1];
    await()
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              served.add(servingVersion());
              second[0] = completed("e2e-2");
              return second[0] != null && servingVersion() == second[0].modelVersion();
            });
    assertThat(second[0].modelVersion()).isGreaterThan(v1);
    assertThat(served)
        .as("versions served during the retrain")
        .containsOnly(v1, second[0].modelVersion());
    assertThat(PROCESSES.get(2).isAlive()).isTrue();
    assertThat(PROCESSES.get(2).pid()).isEqualTo(inferencePid);
    HttpResponse<String> predicted =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + inferencePort + "/api/predict"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        new String(
                            ImageEvent.ofPixels("x", pixelsOf(test, 0)).encode(),
                            StandardCharsets.UTF_8)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(predicted.statusCode()).isEqualTo(200);
    assertThat(Prediction.decode(predicted.body().getBytes(StandardCharsets.UTF_8)).modelVersion())
        .isEqualTo(second[0].modelVersion());
  }

  private static int[] pixelsOf(MnistSet set, int i) {
    int[] pixels = new int[784];
    for (int p = 0; p < 784; p++) {
      pixels[p] = set.pixel(i, p);
    }
    return pixels;
  }

  /** The run's COMPLETED event, or null while it runs; a FAILED one fails the test. */
  private static TrainingEvent completed(String runId) {
    TrainingEvent done = null;
    for (ConsumerRecord<String, byte[]> r : readAll(TOPICS.name(Topic.TRAINING_EVENTS))) {
      TrainingEvent e = TrainingEvent.decode(r.value());
      if (runId.equals(e.runId()) && e.type() == TrainingEvent.Type.FAILED) {
        throw new AssertionError("run " + runId + " failed: " + e.message());
      }
      if (runId.equals(e.runId()) && e.type() == TrainingEvent.Type.COMPLETED) {
        done = e;
      }
    }
    return done;
  }

  private static TrainingEvent awaitCompleted(String runId) {
    TrainingEvent[] done = new TrainingEvent[1];
    await()
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> (done[0] = completed(runId)) != null);
    return done[0];
  }

  private static final Pattern SERVING = Pattern.compile("\"serving\"\\s*:\\s*(\\d+)");

  private static long servingVersion() throws Exception {
    HttpResponse<String> r = get(inferencePort, "/api/models");
    Matcher m = SERVING.matcher(r.body());
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void send(Topic topic, String key, String value) throws Exception {
    try (KafkaProducer<String, byte[]> producer = producer()) {
      producer
          .send(
              new ProducerRecord<>(TOPICS.name(topic), key, value.getBytes(StandardCharsets.UTF_8)))
          .get();
    }
  }

  private static KafkaProducer<String, byte[]> producer() {
    return KafkaClients.writer(bootstrap, Map.of());
  }

  private static List<ConsumerRecord<String, byte[]>> readAll(String topic) {
    try (KafkaConsumer<String, byte[]> consumer = KafkaClients.reader(bootstrap)) {
      List<TopicPartition> parts =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      return out;
    }
  }

  private static int freePort() throws IOException {
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 0, java.net.InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }
}
