package lenet.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineSettingsTest {

  @TempDir Path root;

  @Test
  void defaultsAreOneLocalBrokerAndTheUsualPorts() throws Exception {
    PipelineSettings s = PipelineSettings.from(root, Map.of());
    assertThat(s.run()).isEqualTo(root.resolve("run").toAbsolutePath());
    assertThat(s.components()).containsExactly("kafka", "ingest", "trainer", "inference");
    assertThat(s.bootstrap()).isEqualTo("127.0.0.1:9092");
    assertThat(s.kafka().dataDir()).isEqualTo(root.resolve("data/kafka").toAbsolutePath());
    assertThat(s.port("inference")).isEqualTo(8080);
    assertThat(s.port("ingest")).isEqualTo(8081);
    assertThat(s.port("trainer")).isEqualTo(8082);
    assertThat(s.firstRunEpochs()).isEqualTo(5);
    assertThat(s.upTimeoutSeconds()).isEqualTo(600);
  }

  @Test
  void theBrokerCountAndSecurityOfTheLastUpAreRemembered() throws Exception {
    Path run = Files.createDirectories(root.resolve("run"));
    Files.writeString(run.resolve("kafka.brokers"), "3\n");
    PipelineSettings s = PipelineSettings.from(root, Map.of("KAFKA_PORT", "19092"));
    assertThat(s.brokers()).containsExactly("kafka-1", "kafka-2", "kafka-3");
    assertThat(s.port("kafka-3")).isEqualTo(19096);
    assertThat(s.kafka().dataDir()).isEqualTo(root.resolve("data/kafka-cluster").toAbsolutePath());
    assertThat(PipelineSettings.from(root, Map.of("KAFKA_BROKERS", "1")).brokers())
        .as("unless told otherwise")
        .containsExactly("kafka");

    Files.writeString(run.resolve("kafka.brokers"), "1\n");
    Files.writeString(run.resolve("kafka.security"), "sasl_ssl\n");
    assertThat(PipelineSettings.from(root, Map.of()).kafka().dataDir())
        .isEqualTo(root.resolve("data/kafka-secure").toAbsolutePath());
  }

  @Test
  void aKafkaOfTheUsersOwnStartsNoBroker() throws Exception {
    PipelineSettings s =
        PipelineSettings.from(root, Map.of("KAFKA_BOOTSTRAP_SERVERS", "broker:9092"));
    assertThat(s.components()).containsExactly("ingest", "trainer", "inference");
    assertThat(s.bootstrap()).isEqualTo("broker:9092");
  }

  @Test
  void prometheusIsStartedWhenInstalledUnlessOffOnItsOwnPort() throws Exception {
    PipelineSettings s = PipelineSettings.from(root, Map.of());
    assertThat(s.prometheus()).isEqualTo("auto");
    assertThat(s.port("prometheus")).isEqualTo(9090);
    assertThat(s.prometheusBinary()).isEqualTo(LocalPrometheus.onPath());
    PipelineSettings off =
        PipelineSettings.from(root, Map.of("PROMETHEUS", "off", "PROMETHEUS_PORT", "19090"));
    assertThat(off.prometheusBinary()).isEmpty();
    assertThat(off.port("prometheus")).isEqualTo(19090);
    assertThatThrownBy(() -> PipelineSettings.from(root, Map.of("PROMETHEUS", "yes")).prometheus())
        .hasMessage("PROMETHEUS must be auto, on or off, not yes");
  }

  @Test
  void wrongSettingsAreRefusedWithTheirName() {
    assertThatThrownBy(() -> PipelineSettings.from(root, Map.of("KAFKA_BROKERS", "12")))
        .hasMessage("KAFKA_BROKERS must be 1..9, not 12");
    assertThatThrownBy(
            () ->
                PipelineSettings.from(
                    root, Map.of("KAFKA_BROKERS", "3", "KAFKA_SECURITY", "sasl_ssl")))
        .hasMessageContaining("one broker");
    assertThatThrownBy(() -> PipelineSettings.from(root, Map.of("INGEST_PORT", "x")))
        .hasMessageContaining("INGEST_PORT");
  }

  @Test
  void serviceOptionsAreWords() throws Exception {
    PipelineSettings s =
        PipelineSettings.from(
            root, Map.of("TRAINER_OPTS", " -Dtrainer.batch-size=64  -Dtrainer.augment-shift=0 "));
    // The trainer's C1-only JIT first, so that an option in TRAINER_OPTS can undo it.
    assertThat(s.jvmOptions("trainer"))
        .containsExactly(
            "-XX:TieredStopAtLevel=1", "-Dtrainer.batch-size=64", "-Dtrainer.augment-shift=0");
    assertThat(s.jvmOptions("ingest")).isEmpty();
    assertThat(PipelineSettings.from(root, Map.of()).jvmOptions("trainer"))
        .containsExactly("-XX:TieredStopAtLevel=1");
    assertThat(PipelineSettings.from(root, Map.of()).jvmOptions("inference")).isEmpty();
  }

  /**
   * The trainer's CPU image and bench/run start its JVM as ./pipeline does (copies, kept in step).
   */
  @Test
  void theTrainersJitIsTheSameInItsImageAndTheBench() throws Exception {
    Path repo = Path.of("..").toAbsolutePath().normalize();
    String image = Files.readString(repo.resolve("trainer-service/src/main/docker/Dockerfile.jvm"));
    String bench = Files.readString(repo.resolve("bench/run"));
    for (String option : PipelineSettings.TRAINER_JIT) {
      assertThat(image).contains("JAVA_OPTS=\"").containsPattern("JAVA_OPTS=\"[^\"]*" + option);
      assertThat(bench).contains("TRAINER_JIT=(" + option + ")");
    }
  }
}
