package lenet.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;

/**
 * A real single-node Apache Kafka broker in KRaft mode (broker and controller in one), bound to
 * 127.0.0.1. The same class serves tests (in-process, free ports, throw-away directory) and people
 * ({@link LocalKafka}: fixed port, data kept between runs).
 */
public final class LocalKafkaBroker implements AutoCloseable {

  private static final String HOST = "127.0.0.1";

  private final int port;
  private final int controllerPort;
  private final Path dataDir;
  private final boolean deleteDataOnClose;
  private KafkaRaftServer server;

  private LocalKafkaBroker(int port, int controllerPort, Path dataDir, boolean deleteDataOnClose) {
    this.port = port;
    this.controllerPort = controllerPort;
    this.dataDir = dataDir;
    this.deleteDataOnClose = deleteDataOnClose;
  }

  /** A broker that keeps its data in {@code dataDir} across restarts. */
  public static LocalKafkaBroker persistent(int port, int controllerPort, Path dataDir) {
    return new LocalKafkaBroker(port, controllerPort, dataDir.toAbsolutePath(), false);
  }

  /** A broker on free ports with a temporary directory, deleted on close. */
  public static LocalKafkaBroker ephemeral() {
    try {
      return new LocalKafkaBroker(
          freePort(), freePort(), Files.createTempDirectory("local-kafka-"), true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String bootstrapServers() {
    return HOST + ":" + port;
  }

  public int port() {
    return port;
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
    return this;
  }

  private Properties properties() {
    Properties p = new Properties();
    p.putAll(
        Map.ofEntries(
            Map.entry("process.roles", "broker,controller"),
            Map.entry("node.id", "1"),
            Map.entry("controller.quorum.voters", "1@" + HOST + ":" + controllerPort),
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
            // One node: every internal topic has one replica.
            Map.entry("offsets.topic.replication.factor", "1"),
            Map.entry("offsets.topic.num.partitions", "5"),
            Map.entry("transaction.state.log.replication.factor", "1"),
            Map.entry("transaction.state.log.min.isr", "1"),
            Map.entry("share.coordinator.state.topic.replication.factor", "1"),
            Map.entry("default.replication.factor", "1"),
            // Consumers join at once instead of waiting 3 s for more members.
            Map.entry("group.initial.rebalance.delay.ms", "0"),
            // Topics are created by the services with their settings; a typo must not create a
            // stray topic.
            Map.entry("auto.create.topics.enable", "false"),
            // Room for dataset batches and checkpoints (topics set their own limit too).
            Map.entry("message.max.bytes", String.valueOf(8 * 1024 * 1024)),
            Map.entry("replica.fetch.max.bytes", String.valueOf(8 * 1024 * 1024)),
            Map.entry("log.cleaner.dedupe.buffer.size", String.valueOf(4 * 1024 * 1024)),
            Map.entry("controlled.shutdown.enable", "false")));
    return p;
  }

  /** Formats a new data directory; one that holds a broker's data already is used as it is. */
  private void format(KafkaConfig config) {
    if (Files.exists(dataDir.resolve("meta.properties"))) {
      return;
    }
    Formatter formatter =
        new Formatter()
            .setClusterId(Uuid.randomUuid().toString())
            .setNodeId(config.nodeId())
            .setIgnoreFormatted(true)
            .setControllerListenerName("CONTROLLER")
            .setMetadataLogDirectory(config.metadataLogDir());
    formatter.addDirectory(dataDir.toString());
    try {
      formatter.run();
    } catch (Exception e) {
      throw new IllegalStateException(
          "Cannot format the Kafka data directory " + dataDir + ": " + e.getMessage(), e);
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin =
        Admin.create(
            Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000))) {
      while (true) {
        try {
          admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
          return;
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
      deleteRecursively(dataDir);
    }
  }

  private static void requireFree(int port, String what) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
    } catch (IOException e) {
      throw new IllegalStateException(
          what
              + " "
              + HOST
              + ":"
              + port
              + " is taken (another Kafka still running?). Stop that process or choose another port.",
          e);
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 0, InetAddress.getByName(HOST))) {
      return socket.getLocalPort();
    }
  }

  private static void deleteRecursively(Path dir) {
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
