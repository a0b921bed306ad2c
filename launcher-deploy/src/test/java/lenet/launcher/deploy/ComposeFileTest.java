package lenet.launcher.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** docker-compose.yml's Kafka nodes, services and jobs as its engine would run them. */
class ComposeFileTest {

  @Test
  void brokerSettingsAreTheImagesReadingOfItsEnvironment() {
    assertThat(
            ComposeFile.brokerSettings(
                Map.of(
                    "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "3",
                    "KAFKA_LISTENERS", "PLAINTEXT://:9092",
                    "KAFKA_NODE_ID", "1",
                    "KAFKA_HEAP_OPTS", "-Xmx1g",
                    "KAFKA_CONFLUENT__X___Y", "v",
                    "CLUSTER_ID", "abc")))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("offsets.topic.replication.factor", "3", "confluent_x-y", "v"));
  }

  @Test
  void theComposeFileReadsAsItsEngineWouldRunIt() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        ComposeFile.available(), "docker-compose is not installed here");
    Deployment d =
        ComposeFile.render(Path.of("..", "docker-compose.yml"), Map.of("API_TOKEN", "t"));
    assertThat(d.kafka().nodes()).isEqualTo(3);
    assertThat(d.kafka().secured()).isFalse();
    assertThat(d.kafka().addresses()).containsEntry("kafka-2:9092", 2);
    assertThat(d.kafka().jvmOptions()).contains("-Xmx1g");
    assertThat(d.kafka().brokerConfig())
        .containsEntry("min.insync.replicas", "2")
        .doesNotContainKeys("listeners", "node.id");
    Deployment.Job topics =
        d.jobs().stream().filter(j -> j.name().equals("kafka-topics")).findFirst().orElseThrow();
    assertThat(topics.script()).contains("--bootstrap-server $BOOTSTRAP").doesNotContain("$$");
    Workload inference = d.module("inference");
    assertThat(inference.port()).isEqualTo(8080);
    assertThat(inference.probes()).containsEntry("readiness", "/q/health/ready");
    assertThat(inference.env())
        .contains(new Workload.EnvVar("API_TOKEN", new Workload.Literal("t")))
        .noneMatch(v -> v.name().equals("JAVA_OPTS_APPEND")); // unset in the shell: not set
  }
}
