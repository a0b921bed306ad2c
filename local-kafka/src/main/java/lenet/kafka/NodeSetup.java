package lenet.kafka;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How a node is set up beyond where it listens ({@link KafkaNodes} decides that): whether its
 * clients must use TLS and SCRAM ({@link KafkaSecurity}); whether it creates the pipeline's topics
 * and its users' ACLs itself ({@link PipelineAccess}) or leaves topics, users and ACLs to someone
 * else, as Strimzi's Topic and User Operators do on a deployed cluster; and broker settings laid
 * over the node's own (a deployment's {@code spec.kafka.config}, or the {@code KAFKA_*} environment
 * of a compose file's brokers).
 *
 * @param brokerConfig broker settings; none of {@link #PLACEMENT} (where and how the node listens,
 *     its id, quorum and directories are the node's own, and its security is {@code secured}'s)
 */
public record NodeSetup(boolean secured, boolean pipelineAccess, Map<String, String> brokerConfig) {

  /** Plaintext, the pipeline's topics left to the services (which create them at start). */
  public static final NodeSetup PLAINTEXT = new NodeSetup(false, false, Map.of());

  /** TLS + SCRAM, the pipeline's topics and its users' ACLs created by the node at start. */
  public static final NodeSetup SECURED_PIPELINE = new NodeSetup(true, true, Map.of());

  /** Settings that say where and how a node listens or who it is: the node decides them. */
  public static final Set<String> PLACEMENT =
      Set.of(
          "process.roles",
          "node.id",
          "controller.quorum.voters",
          "controller.quorum.bootstrap.servers",
          "listeners",
          "advertised.listeners",
          "controller.listener.names",
          "inter.broker.listener.name",
          "listener.security.protocol.map",
          "log.dirs",
          "log.dir",
          "metadata.log.dir");

  private static final List<String> SECURITY_PREFIXES =
      List.of("sasl.", "ssl.", "listener.name.", "authorizer.", "super.users");

  public NodeSetup {
    if (pipelineAccess && !secured) {
      throw new IllegalArgumentException("ACLs need a secured node: pipelineAccess needs secured");
    }
    for (String key : brokerConfig.keySet()) {
      if (PLACEMENT.contains(key) || SECURITY_PREFIXES.stream().anyMatch(key::startsWith)) {
        throw new IllegalArgumentException(
            key + " is the node's own (its listeners, id, quorum, directories and security)");
      }
    }
    brokerConfig = Map.copyOf(new LinkedHashMap<>(brokerConfig));
  }
}
