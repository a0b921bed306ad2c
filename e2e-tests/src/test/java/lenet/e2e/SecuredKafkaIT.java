package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import lenet.contract.mnist.MnistFiles;
import lenet.contract.mnist.MnistSet;
import lenet.contract.topics.KafkaClients;
import lenet.contract.topics.KafkaConnection;
import lenet.contract.topics.Topic;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.KafkaSecurity;
import lenet.kafka.LocalKafkaBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The three packaged services against a broker that takes only TLS + SCRAM-SHA-512 clients and
 * authorizes every request, each service as its own Kafka user with only its ACLs and its settings
 * in its environment ({@code KAFKA_*}, as {@code ./pipeline} and the deployments give them): a run
 * trains, its model serves, image events sent by user {@code client} are scored. A client without
 * credentials, or with a wrong password, is refused.
 */
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

  private static void describe(Map<String, Object> settings) throws Exception {
    Map<String, Object> config = new HashMap<>(settings);
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
    try (Admin admin = Admin.create(config)) {
      admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS);
    }
  }
}
