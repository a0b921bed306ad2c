package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.Topic;
import lenet.launcher.deploy.ComposeFile;
import lenet.launcher.deploy.Deployment;
import lenet.launcher.deploy.Pod;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * {@code docker-compose.yml} as the engine would run it, resolved by the real {@code docker-compose
 * config} with {@code API_TOKEN} as the only variable of the operator's shell, and booted as
 * processes ({@link BootedPipeline}): its three {@code apache/kafka} nodes as a local KRaft cluster
 * with their {@code KAFKA_*} broker settings and listener security; its one-shot {@code
 * kafka-topics} and {@code signing-keys} scripts run as written; every service with its
 * environment, two inference replicas (as {@code --scale inference=2}). The lifecycle of {@link
 * BootedLifecycle} passes on it.
 */
class ComposeDeploymentIT extends BootedLifecycle {

  static final Path COMPOSE = Services.REPO.resolve("docker-compose.yml");

  Deployment files;

  @BeforeAll
  void boot() throws Exception {
    assumeTrue(
        ComposeFile.available(), "docker-compose is not installed: the compose file is not booted");
    files = ComposeFile.render(COMPOSE, Map.of("API_TOKEN", "compose-" + UUID.randomUUID()));
    pipeline = BootedPipeline.boot(files, "compose", 2, "mnist");
  }

  @Override
  String name() {
    return "compose";
  }

  @Override
  int eventsThroughAKill() {
    return 2_000;
  }

  @Test
  @Order(1)
  void theJobsRanAsWrittenAndTheServicesGetTheFilesEnvironment() throws Exception {
    assertThat(files.kafka().nodes()).isEqualTo(3);
    assertThat(files.jobs())
        .extracting(Deployment.Job::name)
        .contains("kafka-topics", "signing-keys");
    try (Admin admin = Admin.create(pipeline.cluster.adminSettings())) {
      Map<String, TopicDescription> topics =
          admin
              .describeTopics(
                  java.util.Arrays.stream(Topic.values()).map(Services.TOPICS::name).toList())
              .allTopicNames()
              .get(30, TimeUnit.SECONDS);
      assertThat(topics).as("the topics kafka-topics created").hasSize(Topic.values().length);
      TopicDescription images = topics.get(Services.TOPICS.name(Topic.DIGITS_IMAGES));
      assertThat(images.partitions()).hasSize(Topic.DIGITS_IMAGES.partitions());
      assertThat(images.partitions().get(0).replicas()).hasSize(3);
    }
    Pod inference = pipeline.inference().get(0);
    assertThat(inference.environment())
        .containsEntry("KAFKA_BOOTSTRAP_SERVERS", pipeline.cluster.bootstrapServers())
        .containsEntry("INFERENCE_POLICY", "gated")
        .containsEntry("QUARKUS_HTTP_HOST", "127.0.0.1");
    // signing-keys made the pairs once; inference reads the public half the trainer signs with.
    assertThat(Path.of(inference.environment().get("INFERENCE_SIGNING_TRUSTED_KEY_FILES")))
        .isRegularFile();
    assertThat(
            Files.readString(
                Path.of(inference.environment().get("INFERENCE_SIGNING_TRUSTED_KEY_FILES"))))
        .isEqualTo(
            Files.readString(
                Path.of(
                    pipeline.trainer().environment().get("TRAINER_SIGNING_KEY_FILE") + ".pub")));
  }
}
