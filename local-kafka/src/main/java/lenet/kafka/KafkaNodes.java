package lenet.kafka;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.common.Uuid;

/**
 * Where the nodes of a local KRaft cluster listen: node {@code i} (1..n) takes client port {@code
 * basePort + 2(i-1)} and controller port one above it, all on 127.0.0.1 (so 9092/9093, 9094/9095,
 * 9096/9097 for three nodes on the default port). Every node is broker and controller at once:
 * three processes give a controller quorum that survives the loss of any one, as Strimzi's
 * dual-role node pool does.
 *
 * <p>Also the cluster-wide replication the nodes are configured with, {@link #replicationFactor()}
 * and {@link #minInsyncReplicas()}: the same rule the pipeline's topics are created with
 * (pipeline-contract {@code Topic.replicationFactor}; a test there holds them equal).
 */
public record KafkaNodes(int count, int basePort) {

  static final String HOST = "127.0.0.1";

  public KafkaNodes {
    if (count < 1 || count > 9) {
      throw new IllegalArgumentException("a local cluster has 1 to 9 nodes, not " + count);
    }
    if (basePort < 1 || basePort + 2 * count > 65535) {
      throw new IllegalArgumentException("no room for " + count + " nodes from port " + basePort);
    }
  }

  /** {@code count} nodes on consecutive ports that are free now (for tests). */
  public static KafkaNodes onFreePorts(int count) {
    for (int attempt = 0; attempt < 100; attempt++) {
      int base = ThreadLocalRandom.current().nextInt(20_000, 60_000);
      if (IntStream.range(base, base + 2 * count).allMatch(KafkaNodes::isFree)) {
        return new KafkaNodes(count, base);
      }
    }
    throw new IllegalStateException("found no " + 2 * count + " consecutive free ports");
  }

  public int port(int node) {
    return basePort + 2 * (check(node) - 1);
  }

  public int controllerPort(int node) {
    return port(node) + 1;
  }

  /** Every node's client address, comma-separated: what clients bootstrap from. */
  public String bootstrapServers() {
    return IntStream.rangeClosed(1, count)
        .mapToObj(n -> HOST + ":" + port(n))
        .collect(Collectors.joining(","));
  }

  /** The controller quorum, {@code 1@127.0.0.1:9093,2@127.0.0.1:9095,...}. */
  public String voters() {
    return IntStream.rangeClosed(1, count)
        .mapToObj(n -> n + "@" + HOST + ":" + controllerPort(n))
        .collect(Collectors.joining(","));
  }

  /** Copies of each partition: every node up to three. */
  public int replicationFactor() {
    return Math.min(3, count);
  }

  /**
   * Replicas that must hold a write before it is acknowledged ({@code acks=all}): two of three, so
   * one node can be lost without losing a write or stopping writes.
   */
  public int minInsyncReplicas() {
    return replicationFactor() >= 3 ? 2 : 1;
  }

  /** The broker settings that size internal and new topics for this cluster. */
  public Map<String, String> replicationSettings() {
    String rf = String.valueOf(replicationFactor());
    String isr = String.valueOf(minInsyncReplicas());
    Map<String, String> s = new LinkedHashMap<>();
    s.put("default.replication.factor", rf);
    s.put("min.insync.replicas", isr);
    s.put("offsets.topic.replication.factor", rf);
    s.put("transaction.state.log.replication.factor", rf);
    s.put("transaction.state.log.min.isr", isr);
    s.put("share.coordinator.state.topic.replication.factor", rf);
    s.put("share.coordinator.state.topic.min.isr", isr);
    return s;
  }

  /**
   * The cluster id for the data under {@code root}: derived from its absolute path, so every node
   * process of one cluster formats with the same id without talking to the others, and clusters in
   * different directories never share one.
   */
  public static String clusterId(Path root) {
    UUID u =
        UUID.nameUUIDFromBytes(
            ("lenet-local-kafka:" + root.toAbsolutePath().normalize())
                .getBytes(StandardCharsets.UTF_8));
    return new Uuid(u.getMostSignificantBits(), u.getLeastSignificantBits()).toString();
  }

  private int check(int node) {
    if (node < 1 || node > count) {
      throw new IllegalArgumentException("node " + node + " is not in 1.." + count);
    }
    return node;
  }

  static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
