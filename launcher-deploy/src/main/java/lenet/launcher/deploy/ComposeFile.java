package lenet.launcher.deploy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lenet.kafka.NodeSetup;
import lenet.launcher.deploy.Workload.EnvVar;
import lenet.launcher.deploy.Workload.Mount;

/**
 * A docker-compose file as the engine would run it: resolved by the real {@code docker-compose
 * config} (anchors, merges, {@code ${VAR:-default}} from the given shell environment), then read
 * into a {@link Deployment}: the {@code apache/kafka} services as the cluster's nodes (their {@code
 * KAFKA_*} environment as broker settings, the way the image's start script turns {@code
 * KAFKA_FOO_BAR} into {@code foo.bar}); every service that runs a {@code lenet/<module>-service}
 * image as it is, as a workload; every other one-shot service (an {@code entrypoint} with a script)
 * as a {@link Deployment.Job}. A setting this reader cannot run locally is refused by name.
 */
public final class ComposeFile {

  private static final Pattern LENET_IMAGE = Pattern.compile("^lenet/([a-z]+)-service(:.*)?$");
  private static final Pattern LISTENER = Pattern.compile("([A-Za-z_]+)://([^,]+)");
  private static final Pattern HEALTH_URL = Pattern.compile("http://[^/\\s]+(/[^\\s'\"]*)");

  /** {@code KAFKA_*} variables the image's scripts read themselves, not broker settings. */
  private static final Set<String> NOT_BROKER_SETTINGS =
      Set.of(
          "KAFKA_HEAP_OPTS",
          "KAFKA_OPTS",
          "KAFKA_JVM_PERFORMANCE_OPTS",
          "KAFKA_GC_LOG_OPTS",
          "KAFKA_LOG4J_OPTS",
          "KAFKA_JMX_OPTS",
          "KAFKA_DEBUG");

  private ComposeFile() {}

  /**
   * {@code file} resolved by {@code docker-compose config} with {@code shell} as the only variables
   * of the operator's shell (besides PATH and HOME), and read.
   */
  public static Deployment render(Path file, Map<String, String> shell) {
    ProcessBuilder b =
        new ProcessBuilder("docker-compose", "-f", file.toAbsolutePath().toString(), "config")
            .directory(file.toAbsolutePath().getParent().toFile());
    Map<String, String> env = b.environment();
    String path = env.get("PATH");
    String home = env.get("HOME");
    env.clear();
    env.put("PATH", path == null ? "/usr/bin:/bin" : path);
    if (home != null) {
      env.put("HOME", home);
    }
    env.putAll(shell);
    return read(file.toString(), Command.output(b));
  }

  /** Whether {@code docker-compose} runs on this machine. */
  public static boolean available() {
    return Command.runs(List.of("docker-compose", "version"));
  }

  /** Reads a resolved compose file ({@code docker-compose config}'s output). */
  public static Deployment read(String source, String resolved) {
    Tree doc = Tree.documents(resolved).get(0);
    List<Workload> workloads = new ArrayList<>();
    List<Deployment.Job> jobs = new ArrayList<>();
    Map<Integer, Map<String, String>> nodes = new LinkedHashMap<>();
    for (Map.Entry<String, Tree> e : doc.at("services").entries()) {
      String name = e.getKey();
      Tree s = e.getValue();
      String image = s.at("image").text("");
      Map<String, String> env = new LinkedHashMap<>();
      s.at("environment")
          .entries()
          .forEach(v -> v.getValue().text().ifPresent(t -> env.put(v.getKey(), t)));
      Matcher lenet = LENET_IMAGE.matcher(image);
      boolean script = s.at("entrypoint").present();
      if (image.startsWith("apache/kafka:") && !script) {
        int id =
            Integer.parseInt(
                Optional.ofNullable(env.get("KAFKA_NODE_ID"))
                    .orElseThrow(
                        () ->
                            new IllegalArgumentException(
                                source + ": " + name + " has no KAFKA_NODE_ID")));
        nodes.put(id, env);
      } else if (script) {
        jobs.add(new Deployment.Job(name, image, script(source, name, s), mounts(source, name, s)));
      } else if (lenet.matches()) {
        workloads.add(workload(source, name, lenet.group(1), s, env));
      } else {
        throw new IllegalArgumentException(
            source
                + ": service "
                + name
                + " ("
                + image
                + ") is neither a Kafka node, a lenet service nor a one-shot job");
      }
    }
    return new Deployment(
        source, kafka(source, nodes), workloads, Map.of(), jobs, Optional.empty());
  }

  private static KafkaShape kafka(String source, Map<Integer, Map<String, String>> nodes) {
    if (nodes.isEmpty()) {
      throw new IllegalArgumentException(source + ": no apache/kafka service");
    }
    Map<String, Integer> addresses = new LinkedHashMap<>();
    Map<String, String> config = null;
    Boolean secured = null;
    for (Map.Entry<Integer, Map<String, String>> n : nodes.entrySet()) {
      Map<String, String> env = n.getValue();
      if (!"broker,controller".equals(env.get("KAFKA_PROCESS_ROLES"))) {
        throw new IllegalArgumentException(
            source
                + ": node "
                + n.getKey()
                + " has roles "
                + env.get("KAFKA_PROCESS_ROLES")
                + "; local nodes are dual-role");
      }
      Map<String, String> protocols = new LinkedHashMap<>();
      for (String pair : env.getOrDefault("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(",")) {
        String[] kv = pair.split(":");
        if (kv.length == 2) {
          protocols.put(kv[0], kv[1]);
        }
      }
      Matcher m = LISTENER.matcher(env.getOrDefault("KAFKA_ADVERTISED_LISTENERS", ""));
      while (m.find()) {
        String protocol = protocols.getOrDefault(m.group(1), m.group(1));
        boolean s = protocol.equals("SASL_SSL");
        if (!s && !protocol.equals("PLAINTEXT")) {
          throw new IllegalArgumentException(
              source
                  + ": listener "
                  + m.group(1)
                  + " is "
                  + protocol
                  + "; local nodes take SASL_SSL or PLAINTEXT");
        }
        if (secured != null && secured != s) {
          throw new IllegalArgumentException(source + ": client listeners differ in security");
        }
        secured = s;
        addresses.put(m.group(2), n.getKey());
      }
      Map<String, String> c = brokerSettings(env);
      if (config != null && !config.equals(c)) {
        throw new IllegalArgumentException(
            source + ": the Kafka nodes' settings differ: " + config + " vs " + c);
      }
      config = c;
    }
    if (Boolean.TRUE.equals(secured)) {
      throw new IllegalArgumentException(
          source + ": a SASL_SSL compose cluster needs its users declared; not read here");
    }
    String heap = nodes.values().iterator().next().getOrDefault("KAFKA_HEAP_OPTS", "").strip();
    List<String> jvm = heap.isEmpty() ? List.of() : List.of(heap.split("\\s+"));
    return new KafkaShape(nodes.size(), false, jvm, config, addresses, null, List.of(), List.of());
  }

  /**
   * The broker settings of a node's {@code KAFKA_*} variables, as the apache/kafka image derives
   * them ({@code _} to {@code .}, {@code __} to {@code _}, {@code ___} to {@code -}), without what
   * a local node decides itself ({@link NodeSetup#PLACEMENT}).
   */
  static Map<String, String> brokerSettings(Map<String, String> env) {
    Map<String, String> out = new java.util.TreeMap<>();
    env.forEach(
        (k, v) -> {
          if (!k.startsWith("KAFKA_") || NOT_BROKER_SETTINGS.contains(k)) {
            return;
          }
          String key =
              k.substring("KAFKA_".length())
                  .toLowerCase()
                  .replace("___", "-")
                  .replace("__", "\u0000")
                  .replace('_', '.')
                  .replace('\u0000', '_');
          if (!NodeSetup.PLACEMENT.contains(key)) {
            out.put(key, v);
          }
        });
    return out;
  }

  private static Workload workload(
      String source, String name, String module, Tree s, Map<String, String> env) {
    List<EnvVar> vars = new ArrayList<>();
    env.forEach((k, v) -> vars.add(new EnvVar(k, new Workload.Literal(v))));
    int port = -1;
    for (Tree p : s.at("ports").items()) {
      String spec = p.text("").replaceAll("/(tcp|udp)$", "");
      String[] parts = spec.split(":");
      port = Integer.parseInt(parts[parts.length - 1]);
    }
    Map<String, String> probes = new LinkedHashMap<>();
    List<String> test = s.at("healthcheck", "test").items().stream().map(t -> t.text("")).toList();
    Matcher url = HEALTH_URL.matcher(String.join(" ", test));
    if (url.find()) {
      probes.put("readiness", url.group(1));
    }
    String mem = s.at("deploy", "resources", "limits", "memory").text(s.at("mem_limit").text("0"));
    return new Workload(
        name,
        module,
        s.at("deploy", "replicas").integer(1),
        vars,
        port,
        probes,
        mounts(source, name, s),
        memory(mem));
  }

  private static List<Mount> mounts(String source, String name, Tree s) {
    List<Mount> mounts = new ArrayList<>();
    for (Tree v : s.at("volumes").items()) {
      String[] parts = v.text("").split(":");
      if (parts.length < 2 || parts[0].startsWith("/") || parts[0].startsWith(".")) {
        throw new IllegalArgumentException(
            source + ": " + name + " mounts " + v.text("?") + "; named volumes are run locally");
      }
      mounts.add(
          new Mount(
              parts[1], new Workload.Named(parts[0]), parts.length > 2 && parts[2].equals("ro")));
    }
    return mounts;
  }

  private static String script(String source, String name, Tree s) {
    List<String> entrypoint = s.at("entrypoint").items().stream().map(t -> t.text("")).toList();
    List<String> command = s.at("command").items().stream().map(t -> t.text("")).toList();
    if (entrypoint.size() != 2 || !entrypoint.get(1).equals("-ec") || command.size() != 1) {
      throw new IllegalArgumentException(
          source + ": " + name + " is not a `sh -ec <script>` one-shot");
    }
    // compose writes a literal $ as $$
    return command.get(0).replace("$$", "$");
  }

  /** A compose memory size ({@code 512m}, {@code 2g}, bytes) in MiB; 0 for none. */
  static long memory(String size) {
    Matcher m = Pattern.compile("^(\\d+)([bkmgBKMG]?)[bB]?$").matcher(size.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a memory size: " + size);
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2).toLowerCase()) {
      case "k" -> n / 1024;
      case "m" -> n;
      case "g" -> n * 1024;
      default -> n / (1024 * 1024);
    };
  }
}
