package lenet.launcher.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import lenet.kafka.KafkaNodes;
import lenet.kafka.KafkaSecurity;
import lenet.kafka.NodeSetup;
import lenet.launcher.Component;
import lenet.launcher.Launched;
import lenet.launcher.Launcher;
import lenet.launcher.LocalKafka;
import lenet.launcher.NotReadyException;
import lenet.launcher.Readiness;
import lenet.launcher.Topology;
import lenet.launcher.deploy.Workload.EnvVar;
import lenet.launcher.deploy.Workload.Mount;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A {@link Deployment} booted on this machine as processes: a KRaft cluster of the files' node
 * count as local-kafka processes with the files' listener security and broker settings; the
 * operators' work done as the cluster admin (topics, users, ACLs: {@link KafkaOperators}); the
 * Secrets ({@link SecretStore}, {@link OperatorSecrets}); the one-shot jobs; then every workload's
 * replicas as {@link Pod}s, each with the environment its container would see.
 *
 * <p>What a cluster or engine would give differently is mapped, and only that: the files' Kafka
 * addresses become the local nodes' ({@code 127.0.0.1:<port>}); each mount path becomes a folder
 * under the boot's directory (a Secret's keys written there as files, a claim or named volume
 * shared by name, an emptyDir per pod); a server told to listen on {@code 0.0.0.0} (a pod's
 * network) listens on {@code 127.0.0.1}; each replica's HTTP port is a free local port ({@code
 * QUARKUS_HTTP_PORT}). {@link Options#overrides()} adds what a test chooses (a smaller dataset),
 * named in one place.
 */
public final class LocalDeployment implements AutoCloseable {

  private static final Duration STOP_GRACE = Duration.ofSeconds(30);

  /**
   * How to boot.
   *
   * @param repo the repository (the packaged services and local-kafka.jar under it)
   * @param root this boot's folder (Kafka data, volumes, logs); emptied first: every boot starts
   *     from nothing, as a new cluster does
   * @param replicas workload name to replica count, where it differs from the files'
   * @param overrides module to variables laid over its containers' environment
   * @param volumeContents a claim or named volume's name to a folder copied into it first (as
   *     {@code kubectl cp} would fill it)
   */
  public record Options(
      Path repo,
      Path root,
      Map<String, Integer> replicas,
      Map<String, Map<String, String>> overrides,
      Map<String, Path> volumeContents) {}

  private final Deployment deployment;
  private final Options options;
  private final Topology topology;
  private final KafkaNodes nodes;
  private final KafkaSecurity security;
  private final SecretStore secrets = new SecretStore();
  private final List<Launched> kafka = new ArrayList<>();
  private final Map<String, Pod> pods = new LinkedHashMap<>();

  private LocalDeployment(Deployment deployment, Options options) {
    this.deployment = deployment;
    this.options = options;
    this.topology = Topology.of(options.repo());
    this.nodes = KafkaNodes.onFreePorts(deployment.kafka().nodes());
    this.security =
        deployment.kafka().secured()
            ? KafkaSecurity.prepareAdminOnly(options.root().resolve("kafka/security"))
            : null;
  }

  /** Boots {@code deployment}: Kafka, the operators' work, jobs, and every pod started. */
  public static LocalDeployment boot(Deployment deployment, Options options)
      throws InterruptedException {
    deleteRecursively(options.root());
    LocalDeployment d = new LocalDeployment(deployment, options);
    try {
      d.startKafka();
      d.operate();
      d.runJobs();
      d.createPods();
      for (Pod p : d.pods.values()) {
        p.start();
      }
      return d;
    } catch (RuntimeException | InterruptedException e) {
      d.close();
      throw e;
    }
  }

  public Deployment deployment() {
    return deployment;
  }

  public String bootstrapServers() {
    return nodes.bootstrapServers();
  }

  /** The admin's client settings (super user on a secured cluster). */
  public Map<String, Object> adminSettings() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    if (security != null) {
      s.putAll(security.clientSettings(KafkaSecurity.ADMIN));
    }
    return s;
  }

  /** The client settings of {@code user} with the password in its Secret {@code secret}. */
  public Map<String, Object> userSettings(String user, String secret, String key) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    s.putAll(security.clientSettings(user, secrets.text(secret, key)));
    return s;
  }

  /** The value of {@code key} in Secret {@code secret}. */
  public String secret(String secret, String key) {
    return secrets.text(secret, key);
  }

  public List<Pod> pods(String workload) {
    return pods.values().stream().filter(p -> p.workload().name().equals(workload)).toList();
  }

  public Pod pod(String name) {
    Pod p = pods.get(name);
    if (p == null) {
      throw new IllegalArgumentException("no pod " + name + " (pods: " + pods.keySet() + ")");
    }
    return p;
  }

  /** Waits until every pod's startup probe answers. */
  public LocalDeployment awaitStarted(Duration timeout) throws InterruptedException {
    for (Pod p : pods.values()) {
      p.awaitStarted(timeout);
    }
    return this;
  }

  /**
   * Reconciles the users of {@code changed} (their credentials kept, their ACLs made exactly the
   * files'), as the User Operator does after a {@code kubectl apply} of changed KafkaUsers.
   */
  public void applyUsers(Deployment changed) throws Exception {
    try (Admin admin = Admin.create(adminSettings())) {
      KafkaOperators.reconcileUsers(admin, changed.kafka().users(), secrets);
    }
  }

  /**
   * Stops {@code pod}, derives its environment again from {@code changed}'s workload of the same
   * name (as after {@code kubectl apply} and a rollout restart) and starts it.
   */
  public Pod restartFrom(Deployment changed, Pod pod) {
    pod.stop(STOP_GRACE);
    Workload w = changed.workload(pod.workload().name());
    pod.replace(component(pod.name(), w, pod.port(), pod.dir()));
    return pod.start();
  }

  // -------------------------------------------------------------------------------------- Kafka

  private void startKafka() throws InterruptedException {
    KafkaShape shape = deployment.kafka();
    Path kafkaDir = options.root().resolve("kafka");
    Path config = kafkaDir.resolve("broker.properties");
    Properties props = new Properties();
    shape.brokerConfig().forEach(props::setProperty);
    new NodeSetup(shape.secured(), false, shape.brokerConfig()); // refuses what a node decides
    try {
      Files.createDirectories(kafkaDir);
      try (var out = Files.newOutputStream(config)) {
        props.store(out, "broker settings of " + deployment.source());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> nodeOptions =
        new ArrayList<>(List.of("--access", "none", "--config", config.toString()));
    if (shape.secured()) {
      nodeOptions.addAll(0, List.of("--security", "sasl_ssl"));
    }
    LocalKafka local = new LocalKafka(shape.nodes(), nodes.basePort(), kafkaDir, "plaintext");
    for (int n = 1; n <= shape.nodes(); n++) {
      kafka.add(
          Launcher.start(
              topology.kafkaNode(
                  "kafka-" + n,
                  local,
                  n,
                  shape.jvmOptions().isEmpty() ? List.of("-Xmx512m") : shape.jvmOptions(),
                  logs().resolve("kafka-" + n + ".log"),
                  nodeOptions)));
    }
    for (Launched node : kafka) {
      try {
        node.awaitReady(Duration.ofMinutes(3));
      } catch (NotReadyException e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    }
  }

  /** The operators' work and the Secrets, before any pod starts. */
  private void operate() throws InterruptedException {
    deployment.secrets().forEach((name, keys) -> keys.forEach((k, v) -> secrets.put(name, k, v)));
    OperatorSecrets.create(deployment, secrets);
    KafkaShape shape = deployment.kafka();
    if (shape.secured()) {
      try {
        secrets.put(shape.caSecret(), "ca.crt", Files.readAllBytes(security.caCertificate()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    try (Admin admin = Admin.create(adminSettings())) {
      KafkaOperators.createTopics(admin, shape.topics());
      if (shape.secured()) {
        KafkaOperators.reconcileUsers(admin, shape.users(), secrets);
      } else if (!shape.users().isEmpty()) {
        throw new IllegalArgumentException(
            deployment.source() + " declares Kafka users for a cluster without authentication");
      }
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("the cluster refused the files' topics or users: " + e, e);
    }
  }

  /** The files' one-shot jobs, in order, each to its end. */
  private void runJobs() {
    Map<String, String> addresses = new LinkedHashMap<>();
    deployment
        .kafka()
        .addresses()
        .forEach(
            (a, node) ->
                addresses.put(a, node == 0 ? bootstrapServers() : "127.0.0.1:" + nodes.port(node)));
    for (Deployment.Job job : deployment.jobs()) {
      Jobs.run(job, options.repo(), options.root(), this::volume, addresses);
    }
  }

  // --------------------------------------------------------------------------------------- pods

  private void createPods() {
    for (Workload w : deployment.workloads()) {
      int count = options.replicas().getOrDefault(w.name(), w.replicas());
      for (int i = 0; i < count; i++) {
        String name = w.name() + "-" + i;
        Path dir = options.root().resolve("pods").resolve(name);
        int port = freePort();
        pods.put(name, new Pod(name, w, port, dir, component(name, w, port, dir)));
      }
    }
  }

  /**
   * The process of replica {@code name} of {@code w}: its folders made, its environment derived.
   */
  private Component component(String name, Workload w, int port, Path dir) {
    Map<String, String> mounts = mountFolders(w, dir);
    Map<String, String> env = new LinkedHashMap<>(Image.of(options.repo(), w.module()).env());
    for (EnvVar v : w.env()) {
      String value =
          v.value() instanceof Workload.SecretKey k
              ? secrets.text(k.secret(), k.key())
              : ((Workload.Literal) v.value()).text();
      env.put(v.name(), value);
    }
    env.replaceAll((k, v) -> localize(v, mounts));
    env.put("QUARKUS_HTTP_PORT", String.valueOf(port));
    env.putAll(options.overrides().getOrDefault(w.module(), Map.of()));
    List<String> jvm = new ArrayList<>(Image.jvmOptions(env));
    if (w.memoryLimitMiB() > 0) {
      jvm.add(0, "-XX:MaxRAM=" + w.memoryLimitMiB() + "m"); // the container's memory limit
    }
    String path =
        w.probes().getOrDefault("startup", w.probes().getOrDefault("liveness", "/q/health/live"));
    return topology
        .service(name, w.module(), port, jvm, logs().resolve(name + ".log"))
        .withEnvironment(env)
        .readyWhen(Readiness.http(URI.create("http://127.0.0.1:" + port + path)));
  }

  /** Each mount path to the local folder that stands for it, its contents put there. */
  private Map<String, String> mountFolders(Workload w, Path podDir) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Mount m : w.mounts()) {
      Path local;
      if (m.volume() instanceof Workload.SecretVolume s) {
        local = podDir.resolve("secrets").resolve(m.path().replace('/', '_'));
        secrets.project(s.secret(), s.items(), s.mode(), local);
      } else if (m.volume() instanceof Workload.Named n) {
        local = volume(n.name());
      } else {
        local = podDir.resolve("empty").resolve(m.path().replace('/', '_'));
      }
      try {
        Files.createDirectories(local);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      out.put(m.path(), local.toAbsolutePath().toString());
    }
    return out;
  }

  /** A claim or named volume: one folder, filled from {@link Options#volumeContents} once. */
  Path volume(String name) {
    Path dir = options.root().resolve("volumes").resolve(name);
    if (!Files.isDirectory(dir)) {
      try {
        Files.createDirectories(dir);
        Path from = options.volumeContents().get(name);
        if (from != null) {
          try (var files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
              if (Files.isRegularFile(f)) {
                Files.copy(f, dir.resolve(f.getFileName()));
              }
            }
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return dir;
  }

  /**
   * A value of the files as the local process must see it: the files' Kafka addresses as the local
   * nodes', a mount path as its folder, {@code 0.0.0.0} (all of a pod's interfaces) as {@code
   * 127.0.0.1}.
   */
  String localize(String value, Map<String, String> mounts) {
    if (value.equals("0.0.0.0")) {
      return "127.0.0.1";
    }
    Map<String, Integer> addresses = deployment.kafka().addresses();
    String[] parts = value.split(",", -1);
    boolean kafkaList =
        parts.length > 0 && java.util.Arrays.stream(parts).allMatch(addresses::containsKey);
    if (kafkaList) {
      return java.util.Arrays.stream(parts)
          .map(
              p ->
                  addresses.get(p) == 0
                      ? bootstrapServers()
                      : "127.0.0.1:" + nodes.port(addresses.get(p)))
          .distinct()
          .collect(Collectors.joining(","));
    }
    String best = null;
    for (String path : mounts.keySet()) {
      if ((value.equals(path) || value.startsWith(path + "/"))
          && (best == null || path.length() > best.length())) {
        best = path;
      }
    }
    return best == null ? value : mounts.get(best) + value.substring(best.length());
  }

  private Path logs() {
    return options.root().resolve("logs");
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot empty " + dir, e);
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops every pod (SIGTERM, all at once), then the Kafka nodes; their folders stay. */
  @Override
  public void close() {
    List<Pod> running = pods.values().stream().filter(Pod::isAlive).toList();
    running.parallelStream().forEach(p -> p.stop(STOP_GRACE));
    kafka.forEach(k -> k.handle().destroy());
    kafka.forEach(k -> k.stop(Duration.ofSeconds(60)));
  }
}
