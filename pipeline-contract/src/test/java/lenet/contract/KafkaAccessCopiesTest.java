package lenet.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import lenet.contract.topics.Acl;
import lenet.contract.topics.KafkaUser;
import lenet.contract.topics.Topic;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

/**
 * {@link KafkaUser} is the one source of the pipeline's ACLs; two copies are rendered from it and
 * this test fails when one differs, in full: {@code deploy/base/users.yaml} (Strimzi KafkaUsers)
 * and local-kafka's {@code pipeline-access.txt} (the topics, from {@link Topic}, and the ACLs the
 * secured local broker creates). After changing {@link KafkaUser} or {@link Topic}, rewrite them
 * with {@code ./mvnw -pl pipeline-contract test -Dtest='TopicCopiesTest,KafkaAccessCopiesTest'
 * -Dtopics.write=true}.
 */
class KafkaAccessCopiesTest {

  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  private static final Path KAFKA_USERS = REPO.resolve("deploy/base/users.yaml");
  private static final Path LOCAL_ACCESS =
      REPO.resolve("local-kafka/src/main/resources/lenet/kafka/pipeline-access.txt");
  private static final boolean WRITE = Boolean.getBoolean("topics.write");
  private static final String REWRITE =
      "./mvnw -pl pipeline-contract test -Dtest='TopicCopiesTest,KafkaAccessCopiesTest'"
          + " -Dtopics.write=true";

  @Test
  void strimziKafkaUsersAreTheAccessTable() throws IOException {
    check(KAFKA_USERS, kafkaUsers());
  }

  @Test
  void theSecuredLocalBrokerAppliesTheAccessTable() throws IOException {
    check(LOCAL_ACCESS, localAccess());
  }

  @Test
  void onlyTheTrainerWritesCheckpointsAndNobodyAdministers() {
    for (KafkaUser u : KafkaUser.values()) {
      assertThat(
              u.may(AclOperation.WRITE, ResourceType.TOPIC, Topic.MODEL_CHECKPOINTS.defaultName()))
          .as("%s writes model.checkpoints", u)
          .isEqualTo(u == KafkaUser.TRAINER);
      for (Acl a : u.acls()) {
        // A Kafka Streams application creates its own internal topics (changelogs), named after its
        // application id: that prefix only, never a pipeline topic.
        boolean streamsInternal =
            u == KafkaUser.INFERENCE
                && a.type() == ResourceType.TOPIC
                && a.name().equals("inference-outcomes-");
        if (!streamsInternal) {
          assertThat(a.operations())
              .as("%s on %s", u, a.name())
              .doesNotContain(AclOperation.CREATE);
        }
        assertThat(a.operations())
            .as("%s on %s", u, a.name())
            .doesNotContain(
                AclOperation.ALL,
                AclOperation.DELETE,
                AclOperation.ALTER,
                AclOperation.ALTER_CONFIGS,
                AclOperation.CLUSTER_ACTION,
                AclOperation.CREATE_TOKENS,
                AclOperation.DESCRIBE_TOKENS);
        if (a.type() == ResourceType.CLUSTER) {
          assertThat(a.operations()).containsOnly(AclOperation.DESCRIBE_CONFIGS);
        }
      }
    }
    assertThat(
            KafkaUser.INFERENCE.may(
                AclOperation.WRITE, ResourceType.TOPIC, Topic.TRAINING_COMMANDS.defaultName()))
        .isFalse();
    assertThat(
            KafkaUser.INFERENCE.may(
                AclOperation.WRITE, ResourceType.TOPIC, Topic.MODEL_CONTROL.defaultName()))
        .isTrue();
  }

  /** Every deployed KafkaUser, with each ACL's reason as its comment. */
  static String kafkaUsers() {
    StringBuilder y = new StringBuilder();
    y.append(
            "# Generated from pipeline-contract's KafkaUser, the one source of the ACLs: do not"
                + " edit here.\n")
        .append("# KafkaAccessCopiesTest fails when this file differs; rewrite it with\n")
        .append("#   ")
        .append(REWRITE)
        .append('\n')
        .append(
            "# Who may do what on Kafka: one SCRAM-SHA-512 user per service (Strimzi's User"
                + " Operator creates each one's\n")
        .append(
            "# Secret, named as the user, with `password` and `sasl.jaas.config`), each allowed"
                + " only what it needs; nobody\n")
        .append(
            "# creates topics (the Topic Operator does, topics.yaml) or changes configs or ACLs."
                + " Read and Write include Describe.\n");
    for (KafkaUser u : KafkaUser.values()) {
      if (u.deployedName().isEmpty()) {
        continue;
      }
      y.append("---\n")
          .append("apiVersion: kafka.strimzi.io/v1\n")
          .append("kind: KafkaUser\n")
          .append("metadata:\n")
          .append("  name: ")
          .append(u.deployedName().get())
          .append('\n')
          .append("  labels:\n")
          .append("    strimzi.io/cluster: lenet-kafka\n")
          .append("    app.kubernetes.io/part-of: lenet\n")
          .append("spec:\n")
          .append("  authentication:\n")
          .append("    type: scram-sha-512\n")
          .append("  authorization:\n")
          .append("    type: simple\n")
          .append("    acls:\n");
      for (Acl a : u.acls()) {
        if (!a.why().isEmpty()) {
          comment(y, "      #", a.why());
        }
        y.append("      - resource: {type: ").append(strimziType(a.type()));
        if (a.type() != ResourceType.CLUSTER) {
          y.append(", name: ")
              .append(a.name())
              .append(", patternType: ")
              .append(a.pattern() == PatternType.PREFIXED ? "prefix" : "literal");
        }
        y.append("}\n")
            .append("        operations: [")
            .append(
                a.operations().stream()
                    .map(KafkaAccessCopiesTest::strimziOperation)
                    .collect(Collectors.joining(", ")))
            .append("]\n");
      }
    }
    return y.toString();
  }

  /** The topics (one node: one replica) and the local users' ACLs, one operation per line. */
  static String localAccess() {
    StringBuilder t = new StringBuilder();
    t.append(
            "# Generated from pipeline-contract's Topic and KafkaUser, the one source of the topic"
                + " and access tables: do not\n")
        .append(
            "# edit here. KafkaAccessCopiesTest fails when this file differs; rewrite it with\n")
        .append("#   ")
        .append(REWRITE)
        .append('\n')
        .append(
            "# The secured local broker (one node) creates these topics and ACLs as user admin at"
                + " start (PipelineAccess).\n")
        .append("# topic <name> <partitions> <config>=<value>...\n");
    for (Topic topic : Topic.values()) {
      t.append("topic ").append(topic.defaultName()).append(' ').append(topic.partitions());
      topic.configs(1).forEach((k, v) -> t.append(' ').append(k).append('=').append(v));
      t.append('\n');
    }
    t.append("# acl <user> <resource type> <pattern type> <resource name> <operation>\n");
    for (KafkaUser u : KafkaUser.values()) {
      if (u.localName().isEmpty()) {
        continue;
      }
      for (Acl a : u.acls()) {
        for (AclOperation op : a.operations()) {
          t.append(
              String.join(
                  " ",
                  "acl",
                  u.localName().get(),
                  a.type().name(),
                  a.pattern().name(),
                  a.name(),
                  op.name()));
          t.append('\n');
        }
      }
    }
    return t.toString();
  }

  /** {@code text} as comment lines that start with {@code start}, within 118 columns. */
  private static void comment(StringBuilder y, String start, String text) {
    StringBuilder line = new StringBuilder(start);
    for (String word : text.split(" ")) {
      if (line.length() + 1 + word.length() > 118) {
        y.append(line).append('\n');
        line = new StringBuilder(start);
      }
      line.append(' ').append(word);
    }
    y.append(line).append('\n');
  }

  private static void check(Path copy, String expected) throws IOException {
    if (WRITE) {
      Files.writeString(copy, expected);
    }
    assertThat(Files.exists(copy) ? Files.readString(copy) : "")
        .as("%s is rendered from KafkaUser (rewrite: %s)", REPO.relativize(copy), REWRITE)
        .isEqualTo(expected);
  }

  private static final Map<ResourceType, String> STRIMZI_TYPES =
      Map.of(
          ResourceType.TOPIC, "topic",
          ResourceType.GROUP, "group",
          ResourceType.CLUSTER, "cluster",
          ResourceType.TRANSACTIONAL_ID, "transactionalId");

  private static String strimziType(ResourceType type) {
    String s = STRIMZI_TYPES.get(type);
    if (s == null) {
      throw new IllegalArgumentException("Strimzi's simple authorization has no " + type);
    }
    return s;
  }

  /** {@code DESCRIBE_CONFIGS} -> {@code DescribeConfigs}, as Strimzi names operations. */
  private static String strimziOperation(AclOperation op) {
    return Arrays.stream(op.name().toLowerCase(Locale.ROOT).split("_"))
        .map(w -> Character.toUpperCase(w.charAt(0)) + w.substring(1))
        .collect(Collectors.joining());
  }
}
