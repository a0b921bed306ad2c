package lenet.contract.topics;

import java.util.List;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;

/**
 * One permission of a {@link KafkaUser}: {@code operations} on the resources that {@code name}
 * matches ({@code pattern}: the exact name, or every name that starts with it), and why the user
 * needs them. Kafka's implied operations apply: Read and Write include Describe.
 */
public record Acl(
    ResourceType type,
    String name,
    PatternType pattern,
    List<AclOperation> operations,
    String why) {

  /** The name Kafka gives the one cluster resource. */
  public static final String CLUSTER = "kafka-cluster";

  public Acl {
    operations = List.copyOf(operations);
    if (operations.isEmpty()) {
      throw new IllegalArgumentException("an ACL without operations: " + name);
    }
  }

  static Acl cluster(String why, AclOperation... operations) {
    return new Acl(ResourceType.CLUSTER, CLUSTER, PatternType.LITERAL, List.of(operations), why);
  }

  static Acl topic(Topic topic, String why, AclOperation... operations) {
    return new Acl(
        ResourceType.TOPIC, topic.defaultName(), PatternType.LITERAL, List.of(operations), why);
  }

  /** Every topic whose name starts with {@code prefix}. */
  static Acl topicsStartingWith(String prefix, String why, AclOperation... operations) {
    return new Acl(ResourceType.TOPIC, prefix, PatternType.PREFIXED, List.of(operations), why);
  }

  static Acl group(String group, String why, AclOperation... operations) {
    return new Acl(ResourceType.GROUP, group, PatternType.LITERAL, List.of(operations), why);
  }

  /** Every consumer group whose id starts with {@code prefix}. */
  static Acl groupsStartingWith(String prefix, String why, AclOperation... operations) {
    return new Acl(ResourceType.GROUP, prefix, PatternType.PREFIXED, List.of(operations), why);
  }

  /** Every transactional id that starts with {@code prefix}. */
  static Acl transactionalIdsStartingWith(String prefix, String why, AclOperation... operations) {
    return new Acl(
        ResourceType.TRANSACTIONAL_ID, prefix, PatternType.PREFIXED, List.of(operations), why);
  }

  /** Whether this ACL covers resource {@code resourceName} of {@code resourceType}. */
  public boolean covers(ResourceType resourceType, String resourceName) {
    return type == resourceType
        && (pattern == PatternType.PREFIXED
            ? resourceName.startsWith(name)
            : resourceName.equals(name));
  }
}
