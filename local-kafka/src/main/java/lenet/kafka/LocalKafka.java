package lenet.kafka;

import java.nio.file.Path;
import java.time.Duration;

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
 *   <li>{@code --security sasl_ssl} (one node): clients must use TLS and SCRAM-SHA-512, the
 *       controller listener TLS and the nodes' own login, and every request is authorized ({@link
 *       KafkaSecurity}); the pipeline's topics and its users' ACLs are created at start ({@link
 *       PipelineAccess}); data in {@code <data-dir>/node-1}, the CA, keys, users and ready-made
 *       client settings in {@code <data-dir>/security}.
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
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(require(args[i], value));
        case "--brokers" -> brokers = Integer.parseInt(require(args[i], value));
        case "--node" -> node = Integer.parseInt(require(args[i], value));
        case "--data-dir" -> dataDir = Path.of(require(args[i], value));
        case "--security" -> security = require(args[i], value).toLowerCase();
        case "--help", "-h" -> {
          System.out.println(
              "usage: local-kafka [--port 9092] [--data-dir data/kafka] [--brokers N [--node I]]"
                  + " [--security plaintext|sasl_ssl]");
          return;
        }
        default -> {
          System.err.println("Unknown option " + args[i] + "; try --help");
          System.exit(2);
        }
      }
      i++;
    }
    if (!security.equals("plaintext") && !security.equals("sasl_ssl")) {
      System.err.println("--security is plaintext or sasl_ssl, not " + security);
      System.exit(2);
    }
    boolean secured = security.equals("sasl_ssl");
    if (secured && brokers > 1) {
      System.err.println("--security sasl_ssl runs one node; a secured local cluster is not built");
      System.exit(2);
    }
    KafkaNodes nodes = new KafkaNodes(brokers, port);
    if (dataDir == null) {
      dataDir =
          Path.of("data", secured ? "kafka-secure" : brokers == 1 ? "kafka" : "kafka-cluster");
    }
    if (brokers > 1 && node == 0) {
      runCluster(nodes, dataDir);
      return;
    }
    LocalKafkaBroker broker;
    try {
      broker =
          secured
              ? LocalKafkaBroker.secured(port, dataDir)
              : brokers == 1
                  ? LocalKafkaBroker.persistent(port, dataDir)
                  : LocalKafkaBroker.clusterNode(nodes, node, dataDir);
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

  private static void runCluster(KafkaNodes nodes, Path dataDir) throws Exception {
    LocalKafkaCluster cluster = new LocalKafkaCluster(nodes, dataDir, System.out);
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
