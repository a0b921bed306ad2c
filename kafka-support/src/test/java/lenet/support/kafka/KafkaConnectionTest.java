package lenet.support.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every client connects as the user configured, with its own tuned settings on top. */
class KafkaConnectionTest {

  private static final Map<String, Object> USER =
      Map.of(
          "bootstrap.servers", "kafka-1:9093",
          "security.protocol", "SASL_SSL",
          "sasl.mechanism", "SCRAM-SHA-512",
          "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;",
          "ssl.truststore.location", "/etc/ca.pem",
          "ssl.truststore.type", "PEM",
          // What Quarkus adds (the application's name as group) and what names one client only.
          "group.id", "inference-service",
          "client.id", "someone",
          "health.enabled", "false",
          "acks", "1");

  @Test
  void everyKindOfClientGetsTheSecuritySettingsAndItsOwnTuningOnTop() {
    KafkaConnection kafka = KafkaConnection.of(USER);
    Map<String, Object> producer = kafka.producer(Map.of("acks", "all", "client.id", "writer"));
    assertThat(producer)
        .containsEntry("bootstrap.servers", "kafka-1:9093")
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
        .containsEntry("ssl.truststore.location", "/etc/ca.pem")
        .containsEntry("acks", "all") // the client's tuning wins
        .containsEntry("client.id", "writer") // its own name, never the user's
        .doesNotContainKeys("group.id", "health.enabled");
    assertThat(kafka.consumer(Map.of()))
        .containsEntry("sasl.jaas.config", USER.get("sasl.jaas.config"))
        .doesNotContainKeys("group.id", "client.id", "acks");
    assertThat(kafka.admin(Map.of()))
        .containsEntry("security.protocol", "SASL_SSL")
        .doesNotContainKeys("acks", "group.id");
    assertThat(kafka.toString())
        .isEqualTo("kafka-1:9093 (SASL_SSL, SCRAM-SHA-512)")
        .doesNotContain("ScramLoginModule");
  }

  @Test
  void aConnectionNeedsSomewhereToConnectTo() {
    assertThat(KafkaConnection.to("127.0.0.1:9092").consumer(Map.of()))
        .containsOnlyKeys("bootstrap.servers");
    assertThat(KafkaConnection.to("127.0.0.1:9092")).hasToString("127.0.0.1:9092 (PLAINTEXT)");
    assertThatThrownBy(() -> KafkaConnection.of(Map.of("security.protocol", "SSL")))
        .hasMessageContaining("kafka.bootstrap.servers");
    assertThatThrownBy(() -> KafkaConnection.of(Map.of("bootstrap.servers", "")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
