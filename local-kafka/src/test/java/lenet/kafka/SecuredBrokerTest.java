package lenet.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The local broker with {@code SASL_SSL}: a client with a user's TLS and SCRAM settings is served,
 * as far as its ACLs ({@link PipelineAccess}) allow; one without credentials, with plaintext, or
 * with a wrong password is refused, on every listener of the node, the controller's included.
 */
class SecuredBrokerTest {

  static LocalKafkaBroker broker;

  @BeforeAll
  static void start() {
    broker = LocalKafkaBroker.ephemeralSecured().start(Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void aUserWithItsSettingsIsServed() throws Exception {
    // The broker made the pipeline's topics; 'client' sends an image event, 'inference' reads it.
    try (KafkaProducer<String, String> p = producer("client", Map.of())) {
      p.send(new ProducerRecord<>("digits.images", 0, "k", "over TLS, as 'client'"))
          .get(30, TimeUnit.SECONDS);
    }
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(
            broker.clientSettings("inference"),
            new StringDeserializer(),
            new StringDeserializer())) {
      TopicPartition tp = new TopicPartition("digits.images", 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      List<ConsumerRecord<String, String>> got = c.poll(Duration.ofSeconds(10)).records(tp);
      assertThat(got).extracting(ConsumerRecord::value).contains("over TLS, as 'client'");
    }
  }

  @Test
  void inferenceWritesWhatItNeedsAndNoCheckpointsOrCommands() throws Exception {
    // Scoring: a transactional worker writes a prediction and a dead letter and commits the
    // group's offsets in the same transaction.
    try (KafkaProducer<String, String> worker =
        producer(
            "inference", Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "inference-test-w0"))) {
      worker.initTransactions();
      worker.beginTransaction();
      worker.send(new ProducerRecord<>("digits.predictions", "id", "{}"));
      worker.send(new ProducerRecord<>("digits.images.dlq", "id", "{}"));
      worker.sendOffsetsToTransaction(
          Map.of(new TopicPartition("digits.images", 0), new OffsetAndMetadata(0)),
          new ConsumerGroupMetadata("inference-service"));
      worker.commitTransaction();
    }
    try (KafkaProducer<String, String> p = producer("inference", Map.of())) {
      p.send(new ProducerRecord<>("model.control", "lenet5/v1", "{}")).get(30, TimeUnit.SECONDS);
      for (String forbidden : List.of("model.checkpoints", "training.commands")) {
        assertThatThrownBy(
                () ->
                    p.send(new ProducerRecord<>(forbidden, "lenet5/v1", "{}"))
                        .get(30, TimeUnit.SECONDS))
            .as("inference writes %s", forbidden)
            .hasCauseInstanceOf(TopicAuthorizationException.class);
      }
    }
    // Nor may it make itself a transactional id outside its prefix, or change a topic.
    try (KafkaProducer<String, String> p =
        producer("inference", Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "trainer-w0"))) {
      assertThatThrownBy(p::initTransactions)
          .isInstanceOf(TransactionalIdAuthorizationException.class);
    }
    try (Admin admin = Admin.create(broker.clientSettings("inference"))) {
      ConfigResource checkpoints =
          new ConfigResource(ConfigResource.Type.TOPIC, "model.checkpoints");
      assertThatThrownBy(
              () ->
                  admin
                      .incrementalAlterConfigs(
                          Map.of(
                              checkpoints,
                              List.of(
                                  new AlterConfigOp(
                                      new ConfigEntry("retention.ms", "1"),
                                      AlterConfigOp.OpType.SET))))
                      .all()
                      .get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(TopicAuthorizationException.class);
    }
  }

  @Test
  void theTrainerWritesCheckpointsAndTheClientDoesNot() throws Exception {
    try (KafkaProducer<String, String> p = producer("trainer", Map.of())) {
      for (String topic : List.of("model.checkpoints", "training.commands")) {
        p.send(new ProducerRecord<>(topic, "lenet5/v1", "{}")).get(30, TimeUnit.SECONDS);
      }
    }
    try (KafkaProducer<String, String> p = producer("trainer", Map.of())) {
      assertThatThrownBy(
              () ->
                  p.send(new ProducerRecord<>("model.control", "lenet5/v1", "{}"))
                      .get(30, TimeUnit.SECONDS))
          .as("only the inference fleet writes model.control")
          .hasCauseInstanceOf(TopicAuthorizationException.class);
    }
    try (KafkaProducer<String, String> p = producer("client", Map.of())) {
      p.send(new ProducerRecord<>("training.commands", "run", "{}")).get(30, TimeUnit.SECONDS);
      for (String forbidden : List.of("model.checkpoints", "model.control")) {
        assertThatThrownBy(
                () -> p.send(new ProducerRecord<>(forbidden, "k", "{}")).get(30, TimeUnit.SECONDS))
            .as("client writes %s", forbidden)
            .hasCauseInstanceOf(TopicAuthorizationException.class);
      }
    }
  }

  @Test
  void clientsWithoutValidCredentialsAreRefused() {
    // TLS without SASL, and SASL with a wrong password: the broker says no.
    Map<String, Object> wrong = new HashMap<>(broker.clientSettings("client"));
    wrong.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"client\""
            + " password=\"guess\";");
    assertThatThrownBy(() -> describe(wrong))
        .hasRootCauseInstanceOf(SaslAuthenticationException.class);
    Map<String, Object> unknown = new HashMap<>(broker.clientSettings("client"));
    unknown.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"mallory\""
            + " password=\"x\";");
    assertThatThrownBy(() -> describe(unknown))
        .hasRootCauseInstanceOf(SaslAuthenticationException.class);
    // Plaintext (no TLS, no credentials) never gets an answer.
    assertThatThrownBy(
            () ->
                describe(
                    Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers())))
        .isInstanceOf(ExecutionException.class);
  }

  @Test
  void strangersGetNoAnswerOnAnyListener() throws Exception {
    String topic = "stranger-target";
    ConfigResource target = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    try (Admin admin = Admin.create(broker.clientSettings(KafkaSecurity.ADMIN))) {
      admin
          .createTopics(List.of(new NewTopic(topic, 1, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    Stranger stranger = new Stranger(broker.security().orElseThrow().caCertificate());
    SoftAssertions softly = new SoftAssertions();
    // Every listener the node has: clients' and the controller's (what bootstrap.controllers uses).
    for (int port : List.of(broker.port(), broker.controllerPort())) {
      for (Stranger.Transport transport : Stranger.Transport.values()) {
        for (var request :
            Stranger.harmfulRequests(topic, "mallory", port != broker.port()).entrySet()) {
          softly
              .assertThat(stranger.send(port, transport, request.getValue()))
              .as("%s to port %d over %s", request.getKey(), port, transport)
              .isEmpty();
        }
      }
    }
    softly.assertAll();
    try (Admin admin = Admin.create(broker.clientSettings(KafkaSecurity.ADMIN))) {
      assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).contains(topic);
      assertThat(
              admin
                  .describeConfigs(List.of(target))
                  .all()
                  .get(30, TimeUnit.SECONDS)
                  .get(target)
                  .get("retention.ms")
                  .value())
          .isEqualTo("604800000");
    }
    Map<String, Object> mallory = new HashMap<>(broker.clientSettings("client"));
    mallory.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"mallory\""
            + " password=\"mallory-password\";");
    assertThatThrownBy(() -> describe(mallory))
        .hasRootCauseInstanceOf(SaslAuthenticationException.class);
  }

  @Test
  void theSecretsAreTheOwnersAlone() throws Exception {
    KafkaSecurity security = broker.security().orElseThrow();
    // The directory is its owner's alone before anything is written into it (keytool writes its
    // stores with the default permissions).
    assertThat(Files.getPosixFilePermissions(security.dir()))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    for (String file :
        List.of("secrets.properties", "ca.p12", "broker.p12", "client.properties", "trainer.env")) {
      assertThat(Files.getPosixFilePermissions(security.dir().resolve(file)))
          .as(file)
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }
    Properties trainer = new Properties();
    try (var in = Files.newInputStream(security.dir().resolve("trainer.properties"))) {
      trainer.load(in);
    }
    assertThat(trainer.getProperty("security.protocol")).isEqualTo("SASL_SSL");
    assertThat(trainer.getProperty("sasl.jaas.config")).contains("username=\"trainer\"");
    assertThat(Files.readString(security.dir().resolve("trainer.env")))
        .contains("KAFKA_SECURITY_PROTOCOL='SASL_SSL'")
        .contains("KAFKA_SASL_MECHANISM='SCRAM-SHA-512'");
    assertThat(Set.copyOf(KafkaSecurity.USERS)).contains("ingest", "trainer", "inference");
  }

  /** A producer of {@code user} that gives up on a refused write within seconds. */
  private static KafkaProducer<String, String> producer(String user, Map<String, Object> extra) {
    Map<String, Object> config = new HashMap<>(broker.clientSettings(user));
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
    config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    config.putAll(extra);
    return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
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
