package lenet.kafka;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;

/**
 * A local KRaft cluster of {@link KafkaNodes}, each node a {@code java} process of its own running
 * {@link LocalKafka} {@code --node I}, so a node can be killed ({@code kill -9}), stopped and
 * started again like a real broker. Used by {@code local-kafka --brokers N} and by tests that need
 * a cluster; data under one root directory ({@code node-I} per node), kept across node restarts.
 */
public final class LocalKafkaCluster implements AutoCloseable {

  private static final Duration STOP_GRACE = Duration.ofSeconds(60);

  private final KafkaNodes nodes;
  private final Path root;
  private final PrintStream log;
  private final String output;
  private final boolean deleteDataOnClose;
  private final Process[] processes;
  private final List<String> nodeOptions;

  /**
   * @param log where the nodes' output goes, each line prefixed with {@code [node I]}
   * @param nodeOptions {@link LocalKafka}'s options every node gets ({@code --security}, {@code
   *     --access}, {@code --config})
   */
  public LocalKafkaCluster(KafkaNodes nodes, Path root, PrintStream log, List<String> nodeOptions) {
    this(nodes, root.toAbsolutePath(), log, "lines marked [node I]", false, nodeOptions);
  }

  private LocalKafkaCluster(
      KafkaNodes nodes,
      Path root,
      PrintStream log,
      String output,
      boolean deleteData,
      List<String> nodeOptions) {
    this.nodeOptions = List.copyOf(nodeOptions);
    this.nodes = nodes;
    this.root = root;
    this.log = log;
    this.output = output;
    this.deleteDataOnClose = deleteData;
    this.processes = new Process[nodes.count() + 1];
  }

  /**
   * {@code count} nodes on free ports with a temporary directory, deleted on close; their output
   * goes to {@code <dir>/nodes.log}.
   */
  public static LocalKafkaCluster ephemeral(int count) {
    try {
      Path dir = Files.createTempDirectory("local-kafka-cluster-");
      PrintStream log =
          new PrintStream(Files.newOutputStream(dir.resolve("nodes.log")), true, "UTF-8");
      return new LocalKafkaCluster(
          KafkaNodes.onFreePorts(count),
          dir,
          log,
          dir.resolve("nodes.log").toString(),
          true,
          List.of());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public KafkaNodes nodes() {
    return nodes;
  }

  public String bootstrapServers() {
    return nodes.bootstrapServers();
  }

  /**
   * Starts every node at once (a node is ready only once a quorum of controllers is) and returns
   * when all are.
   */
  public LocalKafkaCluster start(Duration timeout) {
    List<CountDownLatch> ready = new ArrayList<>();
    for (int n = 1; n <= nodes.count(); n++) {
      ready.add(launch(n));
    }
    for (int n = 1; n <= nodes.count(); n++) {
      await(n, ready.get(n - 1), timeout);
    }
    return this;
  }

  /** Starts node {@code node} again (after {@link #kill} or {@link #stop}); returns once ready. */
  public void startNode(int node, Duration timeout) {
    await(node, launch(node), timeout);
  }

  /** {@code kill -9} of one node: no shutdown of any kind, as a crash or a lost machine. */
  public void kill(int node) {
    Process p = processes[node];
    if (p != null) {
      p.destroyForcibly();
      waitFor(p, STOP_GRACE);
      processes[node] = null;
    }
  }

  /** Stops one node as an operator would (SIGTERM: controlled shutdown), within a minute. */
  public void stop(int node) {
    Process p = processes[node];
    if (p != null) {
      p.destroy();
      awaitOrKill(p);
      processes[node] = null;
    }
  }

  public boolean isRunning(int node) {
    return processes[node] != null && processes[node].isAlive();
  }

  /** Blocks until one of the nodes' processes exits (for {@code local-kafka --brokers N}). */
  public void awaitAnyExit() throws InterruptedException {
    List<CompletableFuture<Process>> exits = new ArrayList<>();
    for (int n = 1; n <= nodes.count(); n++) {
      if (processes[n] != null) {
        exits.add(processes[n].onExit());
      }
    }
    try {
      CompletableFuture.anyOf(exits.toArray(CompletableFuture[]::new)).get();
    } catch (java.util.concurrent.ExecutionException e) {
      // a process's exit never fails
    }
  }

  /** The node that leads {@code topic}'s partition {@code partition} now (-1: none). */
  public int leaderOf(String topic, int partition) {
    try (Admin admin = admin()) {
      TopicDescription d =
          admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
      var leader = d.partitions().get(partition).leader();
      return leader == null ? -1 : leader.id();
    } catch (Exception e) {
      throw new IllegalStateException("cannot describe " + topic + ": " + e.getMessage(), e);
    }
  }

  /** The node that leads the controller quorum now. */
  public int activeController() {
    try (Admin admin = admin()) {
      return admin.describeMetadataQuorum().quorumInfo().get(30, TimeUnit.SECONDS).leaderId();
    } catch (Exception e) {
      throw new IllegalStateException("cannot describe the quorum: " + e.getMessage(), e);
    }
  }

  private Admin admin() {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers(),
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            30_000));
  }

  /** Stops every node at once (so the quorum lives while they shut down) and waits for them. */
  @Override
  public void close() {
    List<Process> running = new ArrayList<>();
    for (int n = 1; n <= nodes.count(); n++) {
      if (processes[n] != null) {
        processes[n].destroy();
        running.add(processes[n]);
        processes[n] = null;
      }
    }
    running.forEach(LocalKafkaCluster::awaitOrKill);
    if (deleteDataOnClose) {
      log.close();
      LocalKafkaBroker.deleteRecursively(root);
    }
  }

  private CountDownLatch launch(int node) {
    if (isRunning(node)) {
      throw new IllegalStateException("node " + node + " runs already");
    }
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms128m",
                "-Xmx512m",
                "-cp",
                System.getProperty("java.class.path"),
                LocalKafka.class.getName(),
                "--brokers",
                String.valueOf(nodes.count()),
                "--node",
                String.valueOf(node),
                "--port",
                String.valueOf(nodes.basePort()),
                "--data-dir",
                root.toString()));
    cmd.addAll(nodeOptions);
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start Kafka node " + node, e);
    }
    processes[node] = p;
    CountDownLatch ready = new CountDownLatch(1);
    Thread relay =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  log.println("[node " + node + "] " + line);
                  if (line.startsWith("READY")) {
                    ready.countDown();
                  }
                }
              } catch (IOException e) {
                // the process is gone
              }
            },
            "kafka-node-" + node + "-output");
    relay.setDaemon(true);
    relay.start();
    return ready;
  }

  private void await(int node, CountDownLatch ready, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (!ready.await(200, TimeUnit.MILLISECONDS)) {
        Process p = processes[node];
        if (p == null || !p.isAlive()) {
          throw new IllegalStateException(
              "Kafka node " + node + " exited before it was ready (its output: " + output + ")");
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "Kafka node " + node + " was not ready within " + timeout);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting Kafka node " + node, e);
    }
  }

  /** Waits for a process asked to stop; one still there after the grace time is killed. */
  private static void awaitOrKill(Process p) {
    if (!waitFor(p, STOP_GRACE)) {
      p.destroyForcibly();
      waitFor(p, STOP_GRACE);
    }
  }

  private static boolean waitFor(Process p, Duration d) {
    try {
      return p.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
