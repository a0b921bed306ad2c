package lenet.e2e;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.SigningKeys;
import lenet.contract.wire.TrainingEvent;
import lenet.launcher.Launched;
import lenet.launcher.Launcher;
import lenet.launcher.LocalKafka;
import lenet.launcher.NotReadyException;
import lenet.launcher.Topology;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import lenet.support.kafka.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The packaged services as processes a test starts through the launcher ({@code java -jar
 * .../quarkus-run.jar}, as {@code ./pipeline} starts them), with their logs in {@code
 * target/e2e-logs/<name>.log}, and the HTTP and Kafka helpers the end-to-end tests share. Closing
 * stops every process it started.
 */
final class Services implements AutoCloseable {

  static final Path REPO = Path.of(System.getProperty("repo.dir", ".."));
  static final Path LOGS = Path.of("target", "e2e-logs");
  static final Topics TOPICS = Topics.defaults();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final Topology TOPOLOGY = Topology.of(REPO);

  /**
   * The API token every service started here accepts (given as {@code API_TOKEN} in its
   * environment, as {@code ./pipeline} does, never on its command line).
   */
  static final String API_TOKEN = "e2e-" + java.util.UUID.randomUUID();

  /**
   * The trainers' checkpoint signing key (created on first use, kept across runs in target/), and
   * the public key every inference replica trusts.
   */
  static final Path SIGNING_KEY = Path.of("target", "e2e-keys", "checkpoint-signing.key");

  static final String TRUSTED_KEY =
      SigningKeys.encode(SigningKeys.loadOrCreate(SIGNING_KEY).getPublic());

  /**
   * The inference fleet's control key (every replica started here holds the same pair, as a fleet
   * must), created before any replica starts so that none creates its own.
   */
  static final Path CONTROL_KEY = Path.of("target", "e2e-keys", "control-signing.key");

  static {
    SigningKeys.loadOrCreate(CONTROL_KEY);
  }

  private static final Pattern SERVING = Pattern.compile("\"serving\"\\s*:\\s*(\\d+)");

  final String bootstrap;
  final KafkaConnection kafka;
  private final java.util.function.Function<String, Map<String, String>> envOf;
  private final Map<String, Launched> processes = new LinkedHashMap<>();

  Services(String bootstrap) throws IOException {
    this(KafkaConnection.to(bootstrap), service -> Map.of());
  }

  /**
   * Services on the Kafka {@code kafka} says (these tests' own clients connect so too); each
   * service process gets {@code envOf.apply(service)} in its environment as well (its Kafka user's
   * {@code KAFKA_*} settings on a secured broker).
   */
  Services(KafkaConnection kafka, java.util.function.Function<String, Map<String, String>> envOf)
      throws IOException {
    this.kafka = kafka;
    this.bootstrap = kafka.bootstrapServers();
    this.envOf = envOf;
    Files.createDirectories(LOGS);
  }

  static String mnistDir() {
    return System.getProperty("mnist.dir", REPO.resolve("data/mnist").toString());
  }

  /**
   * Starts {@code service} ({@code ingest}, {@code trainer}, {@code inference}) as process {@code
   * name} on {@code port}, through the launcher as {@code ./pipeline} starts it.
   */
  Launched start(String name, String service, int port, String... props) {
    List<String> options = new ArrayList<>();
    options.add("-Xmx1g");
    options.add("-Dai.djl.pytorch.num_threads=1");
    options.add("-Dkafka.bootstrap.servers=" + bootstrap);
    options.addAll(List.of(props));
    Map<String, String> env = new HashMap<>(envOf.apply(service));
    env.put("API_TOKEN", API_TOKEN);
    env.put("TRAINER_SIGNING_KEY_FILE", SIGNING_KEY.toAbsolutePath().toString());
    env.put("INFERENCE_SIGNING_TRUSTED_KEYS", TRUSTED_KEY);
    if (service.equals("inference")) { // the control key is the inference fleet's alone
      env.put("INFERENCE_SIGNING_CONTROL_KEY_FILE", CONTROL_KEY.toAbsolutePath().toString());
    }
    Launched p =
        Launcher.start(
            TOPOLOGY
                .service(name, service, port, options, LOGS.resolve(name + ".log"))
                .withEnvironment(env));
    processes.put(name, p);
    return p;
  }

  /**
   * Ingest on a small real MNIST subset (6,000 training images: dev = the last 1,200; 1,000 test)
   * and a trainer whose runs default to two epochs of plain images (fastest to converge on small
   * data; augmentation is for full-data runs). Process names get {@code prefix}.
   */
  void startIngestAndTrainer(String prefix, int ingestPort, int trainerPort) throws IOException {
    new MnistFiles(Path.of(mnistDir()), true).ensurePresent();
    start(
        prefix + "ingest",
        "ingest",
        ingestPort,
        "-Dingest.data-dir=" + mnistDir(),
        "-Dingest.max-train-images=6000",
        "-Dingest.max-test-images=1000");
    startTrainer(prefix + "trainer", trainerPort);
  }

  /** A trainer whose runs default to two epochs of plain images, in batches of 64. */
  void startTrainer(String name, int port) throws IOException {
    start(
        name,
        "trainer",
        port,
        "-Dtrainer.epochs=2",
        "-Dtrainer.batch-size=64",
        "-Dtrainer.augment-shift=0");
  }

  /**
   * A Kafka broker of its own on {@code port} (controller {@code port + 1}; see {@code
   * KafkaNodes.onFreePorts}), as its own process ({@code local-kafka.jar}, through the launcher),
   * keeping its data in {@code dataDir} across restarts; returns once it prints READY.
   */
  Launched startBroker(String name, int port, Path dataDir) throws Exception {
    LocalKafka kafka = new LocalKafka(1, port, dataDir.toAbsolutePath(), "plaintext");
    Launched p =
        Launcher.start(
            TOPOLOGY.kafkaNode(name, kafka, 1, List.of("-Xmx512m"), LOGS.resolve(name + ".log")));
    processes.put(name, p);
    try {
      return p.awaitReady(Duration.ofMinutes(1));
    } catch (NotReadyException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  Launched process(String name) {
    return processes.get(name);
  }

  /** kill -9: the process gets no chance to clean up. */
  void kill(String name) {
    processes.remove(name).kill();
  }

  @Override
  public void close() {
    for (Launched p : processes.values()) {
      p.handle().destroy(); // all at once; each gets its grace period below
    }
    for (Launched p : processes.values()) {
      p.stop(Duration.ofSeconds(30));
    }
    processes.clear();
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(int port, String path, String contentType, String body)
      throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(90))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Ingest, trainer and inference (processes {@code <prefix>ingest}, ..., on the given ports), each
   * up (live) before this returns.
   */
  void startAll(String prefix, int ingestPort, int trainerPort, int inferencePort)
      throws IOException, InterruptedException {
    startIngestAndTrainer(prefix, ingestPort, trainerPort);
    start(prefix + "inference", "inference", inferencePort);
    for (String service : List.of("ingest", "trainer", "inference")) {
      try {
        processes.get(prefix + service).awaitReady(Duration.ofMinutes(2));
      } catch (NotReadyException e) {
        throw new AssertionError(e.getMessage(), e);
      }
    }
  }

  /** A request as the operator sends it to an endpoint that changes state: JSON, with the token. */
  static HttpResponse<String> operatorPost(int port, String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(90))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + API_TOKEN)
            .POST(HttpRequest.BodyPublishers.ofString("{}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The version an inference replica serves, -1 for none (or no answer). */
  static long servingVersion(int port) {
    try {
      Matcher m = SERVING.matcher(get(port, "/api/models").body());
      return m.find() ? Long.parseLong(m.group(1)) : -1;
    } catch (Exception e) {
      return -1;
    }
  }

  void send(Topic topic, String key, String value) throws Exception {
    send(topic, key, value, List.of());
  }

  /** As {@link #send(Topic, String, String)}, with {@code headers} (a traceparent). */
  void send(
      Topic topic, String key, String value, List<org.apache.kafka.common.header.Header> headers)
      throws Exception {
    try (KafkaProducer<String, byte[]> producer = KafkaClients.writer(kafka, Map.of())) {
      producer
          .send(
              new ProducerRecord<>(
                  TOPICS.name(topic), null, key, value.getBytes(StandardCharsets.UTF_8), headers))
          .get();
    }
  }

  /** The run's COMPLETED event, or null while it runs; a FAILED one fails the test. */
  TrainingEvent.Completed completed(String runId) {
    return completedIn(readAll(TOPICS.name(Topic.TRAINING_EVENTS)), runId);
  }

  /**
   * The run's COMPLETED event among {@code events} (training.events), or null; a FAILED one fails
   * the test.
   */
  static TrainingEvent.Completed completedIn(
      List<ConsumerRecord<String, byte[]>> events, String runId) {
    TrainingEvent.Completed done = null;
    for (ConsumerRecord<String, byte[]> r : events) {
      TrainingEvent e = TrainingEvent.decode(r.value());
      if (runId.equals(e.runId()) && e instanceof TrainingEvent.Failed f) {
        throw new AssertionError("run " + runId + " failed: " + f.message());
      }
      if (runId.equals(e.runId()) && e instanceof TrainingEvent.Completed c) {
        done = c;
      }
    }
    return done;
  }

  List<ConsumerRecord<String, byte[]>> readAll(String topic) {
    return TopicReader.of(kafka).toEnd(topic);
  }

  static int freePort() throws IOException {
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 0, java.net.InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }
}
