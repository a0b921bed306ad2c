package lenet.launcher.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import lenet.contract.topics.Topic;
import lenet.launcher.deploy.KafkaShape.AclSpec;
import org.junit.jupiter.api.Test;

/**
 * The keda overlay, rendered by the real kustomize, read as a cluster would run it; and what cannot
 * be run locally refused by name.
 */
class KubernetesFilesTest {

  private static final Path KEDA = Path.of("..", "deploy", "overlays", "keda");

  @Test
  void theKedaOverlayReadsAsTheClusterWouldRunIt() {
    assumeTrue(KubernetesFiles.kustomizeCommand().isPresent(), "no kubectl or kustomize here");
    Deployment d = KubernetesFiles.render(KEDA);

    KafkaShape kafka = d.kafka();
    assertThat(kafka.nodes()).isEqualTo(3);
    assertThat(kafka.secured()).isTrue();
    assertThat(kafka.jvmOptions()).containsExactly("-Xms1g", "-Xmx1g");
    assertThat(kafka.brokerConfig())
        .containsEntry("min.insync.replicas", "2")
        .containsEntry("auto.create.topics.enable", "false");
    assertThat(kafka.addresses()).containsEntry("lenet-kafka-kafka-bootstrap:9093", 0);
    assertThat(kafka.caSecret()).isEqualTo("lenet-kafka-cluster-ca-cert");
    assertThat(kafka.topics()).hasSize(Topic.values().length);
    assertThat(kafka.users())
        .filteredOn(u -> u.name().equals("inference-service"))
        .singleElement()
        .satisfies(
            u ->
                assertThat(u.acls())
                    .contains(new AclSpec("topic", "model.checkpoints", "literal", "Read", "*")));

    Workload inference = d.module("inference");
    assertThat(inference.name()).isEqualTo("inference-service");
    assertThat(inference.port()).isEqualTo(8080);
    assertThat(inference.memoryLimitMiB()).isEqualTo(2048);
    assertThat(inference.probes())
        .containsEntry("readiness", "/q/health/ready")
        .containsEntry("liveness", "/q/health/live");
    assertThat(inference.env())
        .contains(
            new Workload.EnvVar("INFERENCE_POLICY", new Workload.Literal("gated")),
            new Workload.EnvVar(
                "KAFKA_SASL_JAAS_CONFIG",
                new Workload.SecretKey("inference-service", "sasl.jaas.config")));
    assertThat(inference.mounts())
        .extracting(Workload.Mount::path)
        .contains("/var/run/lenet/kafka-ca", "/var/run/lenet/control");

    Deployment.LagScaler keda = d.lagScaler().orElseThrow();
    assertThat(keda.workload()).isEqualTo("inference-service");
    assertThat(keda.user()).isEqualTo("keda");
    assertThat(keda.consumerGroup()).isEqualTo("inference-service");
    assertThat(keda.maxReplicas()).isEqualTo(3);
  }

  @Test
  void everyOverlayReadsAndTheGpuOnesAskTheTrainerForItsGpu() {
    assumeTrue(KubernetesFiles.kustomizeCommand().isPresent(), "no kubectl or kustomize here");
    for (String overlay : java.util.List.of("keda", "hpa", "gpu", "gpu-keda")) {
      Deployment d = KubernetesFiles.render(KEDA.resolveSibling(overlay));
      assertThat(d.workloads()).as(overlay).hasSize(3);
      assertThat(d.lagScaler().isPresent())
          .as(overlay + " scales on lag")
          .isEqualTo(overlay.endsWith("keda"));
      assertThat(d.module("trainer").env())
          .as(overlay)
          .filteredOn(v -> v.name().equals("TRAINER_DEVICE"))
          .last()
          .isEqualTo(
              new Workload.EnvVar(
                  "TRAINER_DEVICE",
                  new Workload.Literal(overlay.startsWith("gpu") ? "gpu" : "auto")));
    }
  }

  @Test
  void aListenerThatCannotRunLocallyIsRefusedByName() {
    String rendered =
        """
        apiVersion: kafka.strimzi.io/v1
        kind: Kafka
        metadata: {name: k}
        spec:
          kafka:
            listeners:
              - {name: oauth, port: 9094, type: internal, tls: true, authentication: {type: oauth}}
        """;
    assertThatThrownBy(() -> KubernetesFiles.read("test", rendered))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("listener oauth")
        .hasMessageContaining("authentication oauth");
  }

  @Test
  void memoryQuantities() {
    assertThat(KubernetesFiles.mebibytes("2Gi")).isEqualTo(2048);
    assertThat(KubernetesFiles.mebibytes("512Mi")).isEqualTo(512);
    assertThat(KubernetesFiles.mebibytes("1G")).isEqualTo(953);
  }
}
