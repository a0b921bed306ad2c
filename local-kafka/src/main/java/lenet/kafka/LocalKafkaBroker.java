package lenet.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;

/**
 * One real Apache Kafka node in KRaft mode (broker and controller in one), bound to 127.0.0.1:
 * alone, or one of the {@link KafkaNodes} of a cluster (each node in a process of its own, see
 * {@link LocalKafkaCluster}). The same class serves tests (in-process, free ports, throw-away
 * directory) and people ({@link LocalKafka}: fixed ports, data kept between runs).
 */
public final class LocalKafkaBroker implements AutoCloseable {

  private static final String HOST = KafkaNodes.HOST;

  private final KafkaNodes nodes;
  private final int nodeId;
  private final int port;
  private final int controllerPort;
  private final Path dataDir;
  private final String clusterId;
  private final boolean deleteDataOnClose;
  private final KafkaSecurity security;
  private final Path owned;
  private final NodeSetup setup;
  private KafkaRaftServer server;

  private LocalKafkaBroker(
      KafkaNodes nodes, int nodeId, Path dataDir, String clusterId, boolean deleteDataOnClose) {
    this(nodes, nodeId, dataDir, clusterId, deleteDataOnClose, null, dataDir, NodeSetup.PLAINTEXT);
  }

  private LocalKafkaBroker(
      KafkaNodes nodes,
      int nodeId,
      Path dataDir,
      String clusterId,
      boolean deleteDataOnClose,
      KafkaSecurity security,
      Path owned,
      NodeSetup setup) {
    this.nodes = nodes;
    this.nodeId = nodeId;
    this.port = nodes.port(nodeId);
    this.controllerPort = nodes.controllerPort(nodeId);
    this.dataDir = dataDir;
    this.clusterId = clusterId;
    this.deleteDataOnClose = deleteDataOnClose;
    this.security = security;
    this.owned = owned;
    this.setup = setup;
  }

  /**
   * A single node whose clients must use TLS and SCRAM ({@link KafkaSecurity}): data in {@code
   * root/node-1}, the CA, keys and users in {@code root/security}, kept across restarts. Needs a
   * directory of its own: the users are written into the cluster's metadata when it is formatted.
   */
  public static LocalKafkaBroker secured(int port, Path root) {
    Path dir = root.toAbsolutePath();
    return new LocalKafkaBroker(
        new KafkaNodes(1, port),
        1,
        dir.resolve("node-1"),
        KafkaNodes.clusterId(dir),
        false,
        KafkaSecurity.prepare(dir.resolve("security")),
        dir,
        NodeSetup.SECURED_PIPELINE);
  }

  /**
   * Node {@code nodeId} of the cluster {@code nodes} set up as {@code setup} says, its data under
   * {@code root} ({@code root/node-<id>}; a secured cluster's CA, keys and users in {@code
   * root/security}, made once by whichever node comes first), kept across restarts.
   */
  public static LocalKafkaBroker node(KafkaNodes nodes, int nodeId, Path root, NodeSetup setup) {
    Path dir = root.toAbsolutePath();
    Path securityDir = dir.resolve("security");
    KafkaSecurity security =
        !setup.secured()
            ? null
            : setup.pipelineAccess()
                ? KafkaSecurity.prepare(securityDir)
                : KafkaSecurity.prepareAdminOnly(securityDir);
    return new LocalKafkaBroker(
        nodes,
        nodeId,
        dir.resolve("node-" + nodeId),
        KafkaNodes.clusterId(dir),
        false,
        security,
        dir,
        setup);
  }

  /** As {@link #secured}, on free ports in a temporary directory deleted on close (tests). */
  public static LocalKafkaBroker ephemeralSecured() {
    try {
      Path dir = Files.createTempDirectory("local-kafka-secured-");
      return new LocalKafkaBroker(
          KafkaNodes.onFreePorts(1),
          1,
          dir.resolve("node-1"),
          KafkaNodes.clusterId(dir),
          true,
          KafkaSecurity.prepare(dir.resolve("security")),
          dir,
          NodeSetup.SECURED_PIPELINE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The TLS and SCRAM settings of this broker's clients; empty for a plaintext broker. */
  public java.util.Optional<KafkaSecurity> security() {
    return java.util.Optional.ofNullable(security);
  }

  /**
   * Everything a client of {@code user} needs to connect (bootstrap servers, and for a secured
   * broker the TLS and SCRAM settings).
   */
  public Map<String, Object> clientSettings(String user) {
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    out.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    if (security != null) {
      out.putAll(security.clientSettings(user));
    }
    return out;
  }

  /**
   * A single node on {@code port} (controller on {@code port + 1}) that keeps its data in {@code
   * dataDir} across restarts.
   */
  public static LocalKafkaBroker persistent(int port, Path dataDir) {
    Path dir = dataDir.toAbsolutePath();
    return new LocalKafkaBroker(new KafkaNodes(1, port), 1, dir, KafkaNodes.clusterId(dir), false);
  }

  /**
   * Node {@code nodeId} of the cluster {@code nodes} whose data lives under {@code root} (this node
   * in {@code root/node-<id>}), kept across restarts.
   */
  public static LocalKafkaBroker clusterNode(KafkaNodes nodes, int nodeId, Path root) {
    Path dir = root.toAbsolutePath();
    return new LocalKafkaBroker(
        nodes, nodeId, dir.resolve("node-" + nodeId), KafkaNodes.clusterId(dir), false);
  }

  /** A single node on free ports with a temporary directory, deleted on close. */
  public static LocalKafkaBroker ephemeral() {
    try {
      Path dir = Files.createTempDirectory("local-kafka-");
      return new LocalKafkaBroker(
          KafkaNodes.onFreePorts(1), 1, dir, KafkaNodes.clusterId(dir), true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** This node's client address. */
  public String bootstrapServers() {
    return HOST + ":" + port;
  }

  public int nodeId() {
    return nodeId;
  }

  public int port() {
    return port;
  }

  /** This node's controller listener (KRaft quorum traffic; {@code port + 1}). */
  public int controllerPort() {
    return controllerPort;
  }

  public Path dataDir() {
    return dataDir;
  }

  /**
   * Formats the data directory when it is new, starts the broker, and returns once a client can
   * reach it.
   *
   * @throws IllegalStateException when a port is taken or the broker does not come up
   */
  public synchronized LocalKafkaBroker start(Duration readyTimeout) {
    if (server != null) {
      return this;
    }
    requireFree(port, "Kafka port");
    requireFree(controllerPort, "Kafka controller port");
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the Kafka data directory " + dataDir, e);
    }
    Properties props = properties();
    if (deleteDataOnClose) {
      // Test brokers: the log cleaner looks for work every second instead of every 15 s, so a
      // test that forces compaction (as operators can with topic settings) sees it promptly.
      props.put("log.cleaner.backoff.ms", "1000");
    }
    KafkaConfig config = KafkaConfig.fromProps(props, false);
    format(config);
    server = new KafkaRaftServer(config, Time.SYSTEM);
    server.startup();
    awaitReady(readyTimeout);
    if (setup.pipelineAccess()) {
      grantPipelineAccess();
    }
    return this;
  }

  /** As admin: the pipeline's topics and its users' ACLs ({@link PipelineAccess}). */
  private void grantPipelineAccess() {
    try (Admin admin = Admin.create(clientSettings(KafkaSecurity.ADMIN))) {
      PipelineAccess.load().apply(admin, (short) nodes.replicationFactor());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(
          "interrupted while creating the pipeline's topics and ACLs", e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(
          "Kafka on " + bootstrapServers() + " did not take the pipeline's topics and ACLs: " + e,
          e);
    }
  }

  private Properties properties() {
    Properties p = new Properties();
    p.putAll(
        Map.ofEntries(
            Map.entry("process.roles", "broker,controller"),
            Map.entry("node.id", String.valueOf(nodeId)),
            Map.entry("controller.quorum.voters", nodes.voters()),
            Map.entry(
                "listeners",
                "PLAINTEXT://"
                    + HOST
                    + ":"
                    + port
                    + ",CONTROLLER://"
                    + HOST
                    + ":"
                    + controllerPort),
            Map.entry("advertised.listeners", "PLAINTEXT://" + HOST + ":" + port),
            Map.entry("controller.listener.names", "CONTROLLER"),
            Map.entry("inter.broker.listener.name", "PLAINTEXT"),
            Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
            Map.entry("log.dirs", dataDir.toString()),
            Map.entry("offsets.topic.num.partitions", "5"),
            // Consumers join at once instead of waiting 3 s for more members.
            Map.entry("group.initial.rebalance.delay.ms", "0"),
            // Topics are created by the services with their settings; a typo must not create a
            // stray topic.
            Map.entry("auto.create.topics.enable", "false"),
            // Room for dataset batches and checkpoints (topics set their own limit too).
            Map.entry("message.max.bytes", String.valueOf(8 * 1024 * 1024)),
            Map.entry("replica.fetch.max.bytes", String.valueOf(8 * 1024 * 1024)),
            Map.entry("log.cleaner.dedupe.buffer.size", String.valueOf(4 * 1024 * 1024))));
    if (security != null) {
      // Clients and brokers: TLS with the local CA's certificate and SCRAM users. The controller
      // listener: TLS and a login too (any process on this machine can reach 127.0.0.1, and a
      // controller obeys whoever talks to it: configs, topics, SCRAM users).
      String listener = "SASL_SSL://" + HOST + ":" + port;
      p.put("listeners", listener + ",CONTROLLER://" + HOST + ":" + controllerPort);
      p.put("advertised.listeners", listener);
      p.put("inter.broker.listener.name", "SASL_SSL");
      p.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL");
      p.putAll(security.brokerSettings("sasl_ssl", "controller"));
    }
    // Internal topics (offsets, transactions) and new topics: replicated on up to three nodes, two
    // in sync for a write; one node: one copy.
    p.putAll(nodes.replicationSettings());
    if (nodes.count() > 1) {
      // A node that stops heart-beating is fenced after 4 s (Kafka's default: 9 s): its partitions
      // get new leaders and leave their in-sync sets sooner, so a kill -9 stalls writers for ~4 s
      // instead of ~11 s (measured, ReplicatedClusterTest). Heartbeats every second keep a busy
      // node (GC, a loaded 2-core machine) well inside it.
      p.put("broker.session.timeout.ms", "4000");
      p.put("broker.heartbeat.interval.ms", "1000");
    }
    p.putAll(setup.brokerConfig());
    return p;
  }

  /** Formats a new data directory; one that holds a broker's data already is used as it is. */
  private void format(KafkaConfig config) {
    if (Files.exists(dataDir.resolve("meta.properties"))) {
      return;
    }
    Formatter formatter =
        new Formatter()
            .setClusterId(clusterId)
            .setNodeId(config.nodeId())
            .setIgnoreFormatted(true)
            .setControllerListenerName("CONTROLLER")
            .setMetadataLogDirectory(config.metadataLogDir());
    formatter.addDirectory(dataDir.toString());
    if (security != null) {
      formatter.setScramArguments(security.scramArguments());
    }
    try {
      formatter.run();
    } catch (Exception e) {
      throw new IllegalStateException(
          "Cannot format the Kafka data directory " + dataDir + ": " + e.getMessage(), e);
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<String, Object> config = clientSettings(KafkaSecurity.ADMIN);
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
    try (Admin admin = Admin.create(config)) {
      while (true) {
        try {
          if (admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).stream()
              .anyMatch(n -> n.id() == nodeId)) {
            return;
          }
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for Kafka", e);
        } catch (Exception e) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "Kafka on " + bootstrapServers() + " was not ready within " + timeout, e);
          }
        }
      }
    }
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
    if (deleteDataOnClose) {
      deleteRecursively(owned);
    }
  }

  private static void requireFree(int port, String what) {
    if (!KafkaNodes.isFree(port)) {
      throw new IllegalStateException(
          what
              + " "
              + HOST
              + ":"
              + port
              + " is taken (another Kafka still running?). Stop that process or choose another port.");
    }
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + dir, e);
    }
  }
}
