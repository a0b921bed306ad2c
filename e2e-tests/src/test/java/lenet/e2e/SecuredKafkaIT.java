package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topic;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.KafkaSecurity;
import lenet.kafka.LocalKafkaBroker;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The three packaged services against a broker that takes only TLS + SASL clients and authorizes
 * every request, each service as its own Kafka user with only its ACLs and its settings in its
 * environment ({@code KAFKA_*}, as {@code ./pipeline} and the deployments give them): a run trains,
 * its model serves, image events sent by user {@code client} are scored, also from a non-Java
 * client (KafkaJS). A client without credentials, or with a wrong password, is refused.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecuredKafkaIT {

  static LocalKafkaBroker broker;
  static Services services;
  static int inferencePort;

  @BeforeAll
  static void start() throws Exception {
    broker = LocalKafkaBroker.ephemeralSecured().start(Duration.ofSeconds(60));
    KafkaSecurity security = broker.security().orElseThrow();
    // The broker created the pipeline's topics and its users' ACLs (pipeline-contract's KafkaUser):
    // the inference user may not write model.checkpoints, so its checkpoint retention is off, as
    // ./pipeline and deploy/ have it.
    KafkaConnection client = KafkaConnection.of(broker.clientSettings("client"));
    services =
        new Services(
            client,
            service -> {
              Map<String, String> env = new HashMap<>(security.environment(service));
              if (service.equals("inference")) {
                env.put("INFERENCE_RETENTION_KEEP_VERSIONS", "0");
              }
              return env;
            });
    int ingestPort = Services.freePort();
    int trainerPort = Services.freePort();
    inferencePort = Services.freePort();
    services.startAll("secured-", ingestPort, trainerPort, inferencePort);
  }

  @AfterAll
  static void stop() throws Exception {
    if (services != null) {
      services.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  @Order(1)
  void thePipelineRunsOnTlsAndScramAndStrangersAreRefused() throws Exception {
    services.send(
        Topic.TRAINING_COMMANDS, "secured-1", "{\"runId\": \"secured-1\", \"epochs\": 1}");
    TrainingEvent.Completed[] done = new TrainingEvent.Completed[1];
    await("the run over SASL_SSL")
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> (done[0] = services.completed("secured-1")) != null);
    long version = done[0].modelVersion();
    await("v" + version + " serves")
        .atMost(Duration.ofMinutes(1))
        .until(() -> Services.servingVersion(inferencePort) == version);

    MnistSet test = new MnistFiles(Path.of(Services.mnistDir()), true).test();
    Set<String> sent = new HashSet<>();
    try (KafkaProducer<String, byte[]> producer = KafkaClients.writer(services.kafka, Map.of())) {
      for (int i = 0; i < 20; i++) {
        int[] pixels = new int[784];
        for (int p = 0; p < 784; p++) {
          pixels[p] = test.pixel(i, p);
        }
        String id = "secured-img-" + i;
        sent.add(id);
        producer.send(
            new ProducerRecord<>(
                Services.TOPICS.name(Topic.DIGITS_IMAGES),
                id,
                ImageEvent.ofPixels(id, pixels).encode()));
      }
    }
    Map<String, Prediction> predictions = new HashMap<>();
    await("20 predictions")
        .atMost(Duration.ofMinutes(1))
        .until(
            () -> {
              for (ConsumerRecord<String, byte[]> r :
                  services.readAll(Services.TOPICS.name(Topic.DIGITS_PREDICTIONS))) {
                if (sent.contains(r.key())) {
                  predictions.put(r.key(), Prediction.decode(r.value()));
                }
              }
              return predictions.size() == 20;
            });
    assertThat(predictions.values()).allMatch(p -> p.modelVersion() == version);

    // Without credentials: plaintext gets no answer, a wrong password is refused by the broker.
    assertThatThrownBy(
            () -> describe(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, services.bootstrap)))
        .isInstanceOf(Exception.class);
    Map<String, Object> wrong = new HashMap<>(broker.clientSettings("inference"));
    wrong.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"inference\""
            + " password=\"not-its-password\";");
    assertThatThrownBy(() -> describe(wrong))
        .hasRootCauseInstanceOf(SaslAuthenticationException.class);
  }

  /**
   * A non-Java client: KafkaJS 2.2.4 (npm) sends an image event as user {@code client} over TLS and
   * SCRAM-SHA-512, and the pipeline scores it. (librdkafka before 2.6.1, Debian 12's kcat among
   * them, cannot log in with SCRAM-SHA-512 to Kafka 4; KafkaJS's consumer does not speak Kafka 4's
   * protocol versions, so the prediction is read here.) Runs after the first test, whose model
   * scores it.
   */
  @Test
  @Order(2)
  void aKafkaJsClientsImageEventIsScored() throws Exception {
    Path dir = Path.of("target", "kafkajs");
    Files.createDirectories(dir);
    assumeTrue(
        run(dir, List.of("npm", "--version")).isPresent(),
        "npm is not on the PATH: the KafkaJS client is not tried");
    if (!Files.isDirectory(dir.resolve("node_modules/kafkajs"))) {
      // A package of its own, so npm installs here and not into a package.json further up.
      Files.writeString(dir.resolve("package.json"), "{\"private\": true}\n");
      assumeTrue(
          run(dir, List.of("npm", "install", "--no-audit", "--no-fund", "kafkajs@2.2.4"))
              .isPresent(),
          "npm could not install kafkajs@2.2.4 (no registry reachable?): the KafkaJS client is not"
              + " tried");
    }
    try (var in = SecuredKafkaIT.class.getResourceAsStream("/kafkajs/produce.js")) {
      Files.copy(in, dir.resolve("produce.js"), StandardCopyOption.REPLACE_EXISTING);
    }
    MnistSet test = new MnistFiles(Path.of(Services.mnistDir()), true).test();
    int[] pixels = new int[784];
    for (int p = 0; p < 784; p++) {
      pixels[p] = test.pixel(0, p);
    }
    String id = "kafkajs-img-0";
    String jaas = broker.clientSettings("client").get("sasl.jaas.config").toString();
    Matcher password = Pattern.compile("password=\"([^\"]*)\"").matcher(jaas);
    assertThat(password.find()).isTrue();
    ProcessBuilder node =
        new ProcessBuilder(
            "node",
            "produce.js",
            services.bootstrap,
            broker.security().orElseThrow().caCertificate().toString(),
            "client",
            id,
            new String(ImageEvent.ofPixels(id, pixels).encode(), StandardCharsets.UTF_8));
    node.environment().put("KAFKA_PASSWORD", password.group(1));
    assertThat(run(dir, node))
        .as("node produce.js")
        .hasValueSatisfying(out -> assertThat(out).contains("sent " + id));

    await("a prediction for the KafkaJS client's event")
        .atMost(Duration.ofMinutes(2))
        .until(
            () ->
                services.readAll(Services.TOPICS.name(Topic.DIGITS_PREDICTIONS)).stream()
                    .anyMatch(r -> id.equals(r.key())));
  }

  /** Runs {@code command} in {@code dir}: its output, or empty when it failed or is missing. */
  private static Optional<String> run(Path dir, List<String> command) throws Exception {
    return run(dir, new ProcessBuilder(command));
  }

  private static Optional<String> run(Path dir, ProcessBuilder builder) throws Exception {
    Process p;
    try {
      p = builder.directory(dir.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      return Optional.empty();
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(3, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      return Optional.empty();
    }
    System.out.println(String.join(" ", builder.command().subList(0, 2)) + ": " + out.strip());
    return p.exitValue() == 0 ? Optional.of(out) : Optional.empty();
  }

  private static void describe(Map<String, Object> settings) throws Exception {
    Map<String, Object> config = new HashMap<>(settings);
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
    try (Admin admin = Admin.create(config)) {
      admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS);
    }
  }
}
