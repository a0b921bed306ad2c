package lenet.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TopologyTest {

  private final Topology repo = new Topology(Path.of("/repo"), Path.of("/jdk/bin/java"));

  @Test
  void aSingleBrokerGetsItsPortDataAndSecurity() {
    LocalKafka kafka = new LocalKafka(1, 9092, Path.of("/data/kafka"), "sasl_ssl");
    Component node = repo.kafkaNode("kafka", kafka, 1, List.of(), Path.of("kafka.log"));
    assertThat(node.command())
        .containsExactly(
            "/jdk/bin/java",
            "-jar",
            "/repo/local-kafka/target/local-kafka.jar",
            "--port",
            "9092",
            "--data-dir",
            "/data/kafka",
            "--security",
            "sasl_ssl");
    assertThat(node.readiness()).isEqualTo(Readiness.logLine("READY"));
    assertThat(kafka.nodeNames()).containsExactly("kafka");
    assertThat(kafka.bootstrapServers()).isEqualTo("127.0.0.1:9092");
  }

  @Test
  void clusterNodesTakeEveryOtherPort() {
    LocalKafka kafka = new LocalKafka(3, 9092, Path.of("/data/c"), "plaintext");
    Component node = repo.kafkaNode("kafka-2", kafka, 2, List.of("-Xmx512m"), Path.of("k.log"));
    assertThat(node.command())
        .containsExactly(
            "/jdk/bin/java",
            "-Xmx512m",
            "-jar",
            "/repo/local-kafka/target/local-kafka.jar",
            "--brokers",
            "3",
            "--node",
            "2",
            "--port",
            "9092",
            "--data-dir",
            "/data/c");
    assertThat(kafka.nodeNames()).containsExactly("kafka-1", "kafka-2", "kafka-3");
    assertThat(kafka.bootstrapServers()).isEqualTo("127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096");
  }

  @Test
  void aSecuredClusterIsRefused() {
    assertThatThrownBy(() -> new LocalKafka(3, 9092, Path.of("d"), "sasl_ssl"))
        .hasMessageContaining("one broker");
    assertThatThrownBy(() -> new LocalKafka(1, 9092, Path.of("d"), "ssl"))
        .hasMessageContaining("plaintext or sasl_ssl");
  }

  @Test
  void aServiceRunsItsPackagedAppOnItsPortAndIsReadyWhenLive() {
    Component svc =
        repo.service("trainer", "trainer", 8082, List.of("-Xmx2g", "-Dx=1"), Path.of("t.log"));
    assertThat(svc.command())
        .containsExactly(
            "/jdk/bin/java",
            "-Dquarkus.http.port=8082",
            "-Xmx2g",
            "-Dx=1",
            "-jar",
            "/repo/trainer-service/target/quarkus-app/quarkus-run.jar");
    assertThat(svc.readiness())
        .isEqualTo(Readiness.http(java.net.URI.create("http://127.0.0.1:8082/q/health/live")));
  }
}
