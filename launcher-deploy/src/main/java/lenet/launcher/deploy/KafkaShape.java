package lenet.launcher.deploy;

import java.util.List;
import java.util.Map;

/**
 * The Kafka cluster as a deployment's files declare it: how many nodes, how clients log in, the
 * broker settings, the addresses the files' clients use, and (where the files declare them) the
 * topics and users with their ACLs.
 *
 * @param nodes dual-role (broker and controller) nodes
 * @param secured clients use TLS and SCRAM-SHA-512, and an authorizer decides every request
 * @param jvmOptions the nodes' JVM options the files set (their heap)
 * @param brokerConfig broker settings, without where and how the nodes listen
 * @param addresses each {@code host:port} the files' clients use, to the node it names (1..), or 0
 *     for an address of the whole cluster (a bootstrap service)
 * @param caSecret the Secret that carries the cluster CA's certificate as {@code ca.crt}; null when
 *     not secured
 * @param topics the topics an operator creates (empty: something in the files creates them)
 * @param users the users an operator creates, with their ACLs
 */
public record KafkaShape(
    int nodes,
    boolean secured,
    List<String> jvmOptions,
    Map<String, String> brokerConfig,
    Map<String, Integer> addresses,
    String caSecret,
    List<TopicSpec> topics,
    List<UserSpec> users) {

  public KafkaShape {
    jvmOptions = List.copyOf(jvmOptions);
    brokerConfig = Map.copyOf(brokerConfig);
    addresses = Map.copyOf(addresses);
    topics = List.copyOf(topics);
    users = List.copyOf(users);
  }

  /** A topic to create. */
  public record TopicSpec(String name, int partitions, int replicas, Map<String, String> config) {}

  /**
   * A SCRAM-SHA-512 user; its credentials go to a Secret named {@code secret} with keys {@code
   * password} and {@code sasl.jaas.config}, as Strimzi's User Operator makes them.
   */
  public record UserSpec(String name, String secret, List<AclSpec> acls) {}

  /**
   * An ALLOW rule: {@code resourceType} ({@code topic}, {@code group}, {@code cluster}, {@code
   * transactionalId}), {@code name} ({@code kafka-cluster} for the cluster), {@code patternType}
   * ({@code literal} or {@code prefix}), {@code operation} (Kafka's, e.g. {@code Read}), from
   * {@code host} ({@code *}: any).
   */
  public record AclSpec(
      String resourceType, String name, String patternType, String operation, String host) {}
}
