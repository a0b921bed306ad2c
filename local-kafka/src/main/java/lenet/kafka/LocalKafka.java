package lenet.kafka;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The local Kafka for people: {@code java -jar local-kafka/target/local-kafka.jar [--port 9092]
 * [--data-dir data/kafka] [--brokers N [--node I]]}.
 *
 * <ul>
 *   <li>Alone ({@code --brokers 1}, the default): one node on {@code --port} (controller one
 *       above), data in {@code --data-dir}.
 *   <li>{@code --brokers N --node I}: node I of an N-node cluster ({@link KafkaNodes}: ports {@code
 *       port + 2(I-1)}), data in {@code <data-dir>/node-I}. {@code ./pipeline} starts each node so,
 *       under a supervisor of its own.
 *   <li>{@code --brokers N} without {@code --node}: starts all N nodes, each as a child process of
 *       its own ({@link LocalKafkaCluster}), and stops them with itself.
 *   <li>{@code --security sasl_ssl} (one node or a cluster): clients must use TLS and
 *       SCRAM-SHA-512, the controller listener TLS and the nodes' own login, and every request is
 *       authorized ({@link KafkaSecurity}); with {@code --access pipeline} (the default) the
 *       pipeline's topics and its users' ACLs are created at start ({@link PipelineAccess}), with
 *       {@code --access none} only the {@code admin} user exists and topics, users and ACLs are
 *       left to whoever administers the cluster (as Strimzi's operators do); data in {@code
 *       <data-dir>/node-I}, the CA, keys, users and ready-made client settings in {@code
 *       <data-dir>/security}.
 *   <li>{@code --config FILE}: broker settings (Java properties) laid over the node's own, except
 *       where and how it listens ({@link NodeSetup}); a plaintext node alone then keeps its data in
 *       {@code <data-dir>/node-1}.
 * </ul>
 *
 * Data survives restarts; prints one READY line once clients can connect; stops cleanly on SIGTERM
 * or Ctrl-C.
 */
public final class LocalKafka {

  private LocalKafka() {}

  public static void main(String[] args) throws Exception {
    int port = 9092;
    int brokers = 1;
    int node = 0;
    Path dataDir = null;
    String security = "plaintext";
    String access = null;
    Path config = null;
    List<String> nodeOptions = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(require(args[i], value));
        case "--brokers" -> brokers = Integer.parseInt(require(args[i], value));
        case "--node" -> node = Integer.parseInt(require(args[i], value));
        case "--data-dir" -> dataDir = Path.of(require(args[i], value));
        case "--security" -> security = require(args[i], value).toLowerCase();
        case "--access" -> access = require(args[i], value).toLowerCase();
        case "--config" -> config = Path.of(require(args[i], value)).toAbsolutePath();
        case "--help", "-h" -> {
          System.out.println(
              "usage: local-kafka [--port 9092] [--data-dir data/kafka] [--brokers N [--node I]]"
                  + " [--security plaintext|sasl_ssl [--access pipeline|none]]"
                  + " [--config broker.properties]");
          return;
        }
        default -> {
          System.err.println("Unknown option " + args[i] + "; try --help");
          System.exit(2);
        }
      }
      if (List.of("--security", "--access", "--config").contains(args[i])) {
        nodeOptions.addAll(List.of(args[i], value));
      }
      i++;
    }
    if (!security.equals("plaintext") && !security.equals("sasl_ssl")) {
      System.err.println("--security is plaintext or sasl_ssl, not " + security);
      System.exit(2);
    }
    boolean secured = security.equals("sasl_ssl");
    if (access == null) {
      access = secured ? "pipeline" : "none";
    }
    if (!access.equals("pipeline") && !access.equals("none")) {
      System.err.println("--access is pipeline or none, not " + access);
      System.exit(2);
    }
    NodeSetup setup;
    try {
      setup = new NodeSetup(secured, access.equals("pipeline"), brokerConfig(config));
    } catch (IllegalArgumentException | java.io.IOException e) {
      System.err.println("ERROR: " + e.getMessage());
      System.exit(2);
      return;
    }
    KafkaNodes nodes = new KafkaNodes(brokers, port);
    if (dataDir == null) {
      dataDir =
          Path.of("data", secured ? "kafka-secure" : brokers == 1 ? "kafka" : "kafka-cluster");
    }
    if (brokers > 1 && node == 0) {
      runCluster(nodes, dataDir, nodeOptions);
      return;
    }
    LocalKafkaBroker broker;
    try {
      broker =
          brokers == 1 && setup.equals(NodeSetup.PLAINTEXT)
              ? LocalKafkaBroker.persistent(port, dataDir)
              : LocalKafkaBroker.node(nodes, Math.max(node, 1), dataDir, setup);
    } catch (IllegalStateException | java.io.UncheckedIOException e) {
      System.err.println("ERROR: " + e.getMessage());
      System.exit(1);
      return;
    }
    try {
      broker.start(Duration.ofSeconds(brokers == 1 ? 60 : 120));
    } catch (IllegalStateException | IllegalArgumentException e) {
      System.err.println("ERROR: " + e.getMessage());
      System.exit(1);
    }
    untilStopped(
        () -> {
          System.out.println(
              "Stopping Kafka node " + broker.nodeId() + " on " + broker.bootstrapServers());
          broker.close();
        });
    System.out.println(
        "READY Kafka 4.1 (KRaft) node "
            + broker.nodeId()
            + " of "
            + brokers
            + " on "
            + broker.bootstrapServers()
            + ", data in "
            + broker.dataDir()
            + broker
                .security()
                .map(
                    s ->
                        "; SASL_SSL (SCRAM-SHA-512, ACLs): client settings per user in "
                            + s.dir()
                            + "/<user>.properties")
                .orElse(""));
    Thread.currentThread().join();
  }

  /** The broker settings of {@code file} (Java properties); none without one. */
  private static Map<String, String> brokerConfig(Path file) throws java.io.IOException {
    Map<String, String> out = new LinkedHashMap<>();
    if (file != null) {
      Properties p = new Properties();
      try (var in = Files.newInputStream(file)) {
        p.load(in);
      }
      p.stringPropertyNames().stream().sorted().forEach(k -> out.put(k, p.getProperty(k)));
    }
    return out;
  }

  private static void runCluster(KafkaNodes nodes, Path dataDir, List<String> nodeOptions)
      throws Exception {
    LocalKafkaCluster cluster = new LocalKafkaCluster(nodes, dataDir, System.out, nodeOptions);
    untilStopped(
        () -> {
          System.out.println("Stopping the Kafka cluster on " + nodes.bootstrapServers());
          cluster.close();
        });
    try {
      cluster.start(Duration.ofMinutes(2));
    } catch (IllegalStateException e) {
      System.err.println("ERROR: " + e.getMessage());
      System.exit(1);
    }
    System.out.println(
        "READY Kafka 4.1 (KRaft) cluster of "
            + nodes.count()
            + " on "
            + nodes.bootstrapServers()
            + ", data in "
            + dataDir.toAbsolutePath());
    cluster.awaitAnyExit();
    System.err.println("ERROR: a node exited; stopping the others");
    System.exit(1);
  }

  /** Runs {@code stop} on SIGTERM or Ctrl-C, before the JVM exits. */
  private static void untilStopped(Runnable stop) {
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "local-kafka-shutdown"));
  }

  private static String require(String option, String value) {
    if (value == null) {
      System.err.println(option + " needs a value");
      System.exit(2);
    }
    return value;
  }
}
