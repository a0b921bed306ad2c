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
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The local broker with {@code SASL_SSL}: a client with a user's TLS and SCRAM settings is served;
 * one without credentials, with plaintext, or with a wrong password is refused.
 */
class SecuredBrokerTest {

  static LocalKafkaBroker broker;

  @BeforeAll
  static void start() {
    broker = LocalKafkaBroker.ephemeralSecured().start(Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  @Test
  void aUserWithItsSettingsIsServed() throws Exception {
    Map<String, Object> client = broker.clientSettings("client");
    try (Admin admin = Admin.create(client)) {
      admin
          .createTopics(List.of(new NewTopic("secured", 1, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    try (KafkaProducer<String, String> p =
        new KafkaProducer<>(client, new StringSerializer(), new StringSerializer())) {
      p.send(new ProducerRecord<>("secured", "k", "over TLS, as 'client'"))
          .get(30, TimeUnit.SECONDS);
    }
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(client, new StringDeserializer(), new StringDeserializer())) {
      TopicPartition tp = new TopicPartition("secured", 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      List<ConsumerRecord<String, String>> got = c.poll(Duration.ofSeconds(10)).records(tp);
      assertThat(got).extracting(ConsumerRecord::value).containsExactly("over TLS, as 'client'");
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
  void theSecretsAreTheOwnersAlone() throws Exception {
    KafkaSecurity security = broker.security().orElseThrow();
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

  private static void describe(Map<String, Object> settings) throws Exception {
    Map<String, Object> config = new HashMap<>(settings);
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
    try (Admin admin = Admin.create(config)) {
      admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS);
    }
  }
}
