package lenet.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import lenet.contract.topics.Topic;
import org.junit.jupiter.api.Test;

/**
 * {@link Topic} is the one source of the topic table; the deployments hold rendered copies of it:
 * {@code deploy/base/topics.yaml} (Strimzi KafkaTopics) and the create lines of the {@code
 * kafka-topics} service in {@code docker-compose.yml}, both for the deployments' cluster of {@link
 * Topic#DEPLOYED_BROKERS} brokers. This test fails when a copy differs from what {@link Topic}
 * says, in full (names, partitions, replicas, every setting); after changing {@link Topic}, rewrite
 * the copies with {@code ./mvnw -pl pipeline-contract test -Dtest=TopicCopiesTest
 * -Dtopics.write=true}.
 */
class TopicCopiesTest {

  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  private static final Path KAFKA_TOPICS = REPO.resolve("deploy/base/topics.yaml");
  private static final Path COMPOSE = REPO.resolve("docker-compose.yml");
  private static final String CREATE = "        create --topic ";
  private static final boolean WRITE = Boolean.getBoolean("topics.write");

  @Test
  void strimziKafkaTopicsAreTheTopicTable() throws IOException {
    String expected = kafkaTopics();
    if (WRITE) {
      Files.writeString(KAFKA_TOPICS, expected);
    }
    assertThat(Files.readString(KAFKA_TOPICS))
        .as("deploy/base/topics.yaml is rendered from Topic (rewrite: -Dtopics.write=true)")
        .isEqualTo(expected);
  }

  @Test
  void composeCreatesTheTopicTable() throws IOException {
    List<String> lines = Files.readAllLines(COMPOSE, StandardCharsets.UTF_8);
    List<String> expected = composeCreateLines();
    if (WRITE) {
      int first = firstCreateLine(lines);
      lines.removeIf(l -> l.startsWith(CREATE));
      lines.addAll(first, expected);
      Files.write(COMPOSE, lines, StandardCharsets.UTF_8);
    }
    assertThat(lines.stream().filter(l -> l.startsWith(CREATE)).toList())
        .as(
            "docker-compose.yml kafka-topics creates what Topic says (rewrite: -Dtopics.write=true)")
        .containsExactlyElementsOf(expected);
    assertThat(lines)
        .as("create() gives every topic the deployed replication")
        .contains("            --replication-factor " + deployedReplicas() + " \"$$@\"");
  }

  @Test
  void replicationFollowsTheClusterSize() {
    assertThat(List.of(1, 2, 3, 5).stream().map(Topic::replicationFactor))
        .containsExactly(1, 2, 3, 3);
    assertThat(Topic.MODEL_CONTROL.configs(3)).containsEntry("min.insync.replicas", "2");
    assertThat(Topic.MODEL_CONTROL.configs(2)).containsEntry("min.insync.replicas", "1");
    assertThat(Topic.MNIST_TRAIN.configs(1))
        .containsAllEntriesOf(Topic.MNIST_TRAIN.configs())
        .hasSize(Topic.MNIST_TRAIN.configs().size() + 1);
  }

  private static int deployedReplicas() {
    return Topic.replicationFactor(Topic.DEPLOYED_BROKERS);
  }

  static String kafkaTopics() {
    int replicas = deployedReplicas();
    StringBuilder y = new StringBuilder();
    y.append(
            "# Generated from pipeline-contract's Topic, the one source of the topic table: do not edit here.\n")
        .append("# TopicCopiesTest fails when this file differs; rewrite it with\n")
        .append(
            "#   ./mvnw -pl pipeline-contract test -Dtest=TopicCopiesTest -Dtopics.write=true\n")
        .append("# One KafkaTopic per pipeline topic, for the ")
        .append(Topic.DEPLOYED_BROKERS)
        .append("-broker cluster of kafka.yaml: ")
        .append(replicas)
        .append(" replicas, min.insync.replicas ")
        .append(Topic.minInsyncReplicas(replicas))
        .append(".\n")
        .append(
            "# metadata.name is the topic name with '-' for '.'; spec.topicName is the real name.\n");
    for (Topic t : Topic.values()) {
      y.append("---\n");
      wrapComment(y, t.purpose());
      y.append("apiVersion: kafka.strimzi.io/v1\n")
          .append("kind: KafkaTopic\n")
          .append("metadata:\n")
          .append("  name: ")
          .append(t.defaultName().replace('.', '-'))
          .append('\n')
          .append("  labels:\n")
          .append("    strimzi.io/cluster: lenet-kafka\n")
          .append("    app.kubernetes.io/part-of: lenet\n")
          .append("spec:\n")
          .append("  topicName: ")
          .append(t.defaultName())
          .append('\n')
          .append("  partitions: ")
          .append(t.partitions())
          .append('\n')
          .append("  replicas: ")
          .append(replicas)
          .append('\n')
          .append("  config:\n");
      for (Map.Entry<String, String> c : t.configs(replicas).entrySet()) {
        y.append("    ").append(c.getKey()).append(": ").append(c.getValue()).append('\n');
      }
    }
    return y.toString();
  }

  static List<String> composeCreateLines() {
    List<String> lines = new ArrayList<>();
    for (Topic t : Topic.values()) {
      StringBuilder l = new StringBuilder(CREATE).append(t.defaultName());
      l.append(" --partitions ").append(t.partitions());
      t.configs(deployedReplicas())
          .forEach((k, v) -> l.append(" --config ").append(k).append('=').append(v));
      lines.add(l.toString());
    }
    return lines;
  }

  private static void wrapComment(StringBuilder y, String text) {
    StringBuilder line = new StringBuilder("#");
    for (String word : text.split(" ")) {
      if (line.length() + 1 + word.length() > 118) {
        y.append(line).append('\n');
        line = new StringBuilder("#");
      }
      line.append(' ').append(word);
    }
    y.append(line).append('\n');
  }

  private static int firstCreateLine(List<String> lines) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith(CREATE)) {
        return i;
      }
    }
    throw new IllegalStateException("docker-compose.yml has no '" + CREATE.strip() + "' line");
  }
}
