package lenet.launcher.deploy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lenet.launcher.deploy.KafkaShape.AclSpec;
import lenet.launcher.deploy.KafkaShape.TopicSpec;
import lenet.launcher.deploy.KafkaShape.UserSpec;
import lenet.launcher.deploy.Workload.EnvVar;
import lenet.launcher.deploy.Workload.Mount;

/**
 * A kustomize overlay of {@code deploy/} as a cluster would get it: rendered by the real {@code
 * kubectl kustomize} (or {@code kustomize build}), then read into a {@link Deployment}: the Strimzi
 * {@code Kafka}, {@code KafkaNodePool}s, {@code KafkaTopic}s and {@code KafkaUser}s; every {@code
 * Deployment} whose container runs a {@code lenet/<module>-service} image, with its environment as
 * the kubelet builds it ({@code envFrom} ConfigMaps first, then {@code env}, a later entry
 * winning), its probes, port, volumes and memory limit; the Secrets the files hold; KEDA's Kafka
 * trigger. A field this reader does not know how to run locally is refused by name, never ignored.
 */
public final class KubernetesFiles {

  private static final Pattern LENET_IMAGE = Pattern.compile("^lenet/([a-z]+)-service(:.*)?$");
  private static final Pattern QUANTITY = Pattern.compile("^(\\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$");

  private final String source;
  private final List<Tree> objects;

  private KubernetesFiles(String source, List<Tree> objects) {
    this.source = source;
    this.objects = objects;
  }

  /** The overlay at {@code dir} rendered by {@link #kustomizeCommand()} and read. */
  public static Deployment render(Path dir) {
    return read(dir.toString(), kustomize(dir));
  }

  /** Reads rendered manifests ({@code kubectl kustomize}'s output). */
  public static Deployment read(String source, String rendered) {
    return new KubernetesFiles(source, Tree.documents(rendered)).deployment();
  }

  /**
   * The command that renders an overlay: {@code kubectl kustomize} when kubectl is on the PATH,
   * else {@code kustomize build}; empty when neither is.
   */
  public static Optional<List<String>> kustomizeCommand() {
    if (Command.runs(List.of("kubectl", "version", "--client"))) {
      return Optional.of(List.of("kubectl", "kustomize"));
    }
    if (Command.runs(List.of("kustomize", "version"))) {
      return Optional.of(List.of("kustomize", "build"));
    }
    return Optional.empty();
  }

  /** {@code kubectl kustomize dir}'s output. */
  public static String kustomize(Path dir) {
    List<String> cmd =
        new ArrayList<>(
            kustomizeCommand()
                .orElseThrow(
                    () ->
                        new IllegalStateException(
                            "neither kubectl (with kustomize) nor kustomize is on the PATH: cannot"
                                + " render "
                                + dir)));
    cmd.add(dir.toString());
    return Command.output(new ProcessBuilder(cmd));
  }

  // --------------------------------------------------------------------------------------- read

  private Deployment deployment() {
    Map<String, Map<String, String>> secrets = new LinkedHashMap<>();
    for (Tree s : ofKind("Secret")) {
      Map<String, String> data = new LinkedHashMap<>();
      s.at("data")
          .entries()
          .forEach(
              e ->
                  data.put(
                      e.getKey(),
                      new String(
                          Base64.getDecoder().decode(e.getValue().text("")),
                          StandardCharsets.UTF_8)));
      s.at("stringData").entries().forEach(e -> data.put(e.getKey(), e.getValue().text("")));
      secrets.put(s.name(), data);
    }
    List<Workload> workloads = new ArrayList<>();
    for (Tree d : ofKind("Deployment")) {
      workload(d).ifPresent(workloads::add);
    }
    Optional<Deployment.LagScaler> scaler = lagScaler(secrets, workloads);
    return new Deployment(source, kafka(), workloads, secrets, List.of(), scaler);
  }

  private KafkaShape kafka() {
    List<Tree> clusters = ofKind("Kafka");
    if (clusters.size() != 1) {
      throw refuse("declares " + clusters.size() + " Kafka clusters; one is run locally");
    }
    Tree kafka = clusters.get(0);
    String name = kafka.name();
    String namespace = kafka.at("metadata", "namespace").text("default");
    int nodes = 0;
    List<String> jvm = new ArrayList<>();
    for (Tree pool : ofKind("KafkaNodePool")) {
      if (name.equals(pool.at("metadata", "labels", "strimzi.io/cluster").text(""))) {
        List<String> options = new ArrayList<>();
        pool.at("spec", "jvmOptions")
            .entries()
            .forEach(
                e -> {
                  if (e.getKey().startsWith("-X")) {
                    options.add(e.getKey() + e.getValue().text(""));
                  }
                });
        if (nodes > 0 && !options.equals(jvm)) {
          throw refuse("node pools with different JVM options; one is run locally");
        }
        jvm = options;
        List<String> roles =
            pool.at("spec", "roles").items().stream().map(t -> t.text("")).toList();
        if (!roles.contains("broker") || !roles.contains("controller")) {
          throw refuse(
              "node pool " + pool.name() + " has roles " + roles + "; local nodes are dual-role");
        }
        nodes += pool.at("spec", "replicas").integer(0);
      }
    }
    List<Tree> listeners = kafka.at("spec", "kafka", "listeners").items();
    if (listeners.isEmpty()) {
      throw refuse("Kafka " + name + " has no listener");
    }
    Boolean secured = null;
    Map<String, Integer> addresses = new LinkedHashMap<>();
    for (Tree l : listeners) {
      boolean tls = Boolean.parseBoolean(l.at("tls").text("false"));
      String auth = l.at("authentication", "type").text("none");
      boolean scramTls = tls && auth.equals("scram-sha-512");
      boolean plain = !tls && auth.equals("none");
      if (!scramTls && !plain) {
        throw refuse(
            "listener "
                + l.at("name").text("?")
                + " (tls "
                + tls
                + ", authentication "
                + auth
                + "): local nodes take TLS + SCRAM-SHA-512 or plaintext");
      }
      if (secured != null && secured != scramTls) {
        throw refuse("listeners of Kafka " + name + " differ in security; one kind is run locally");
      }
      secured = scramTls;
      String port = l.at("port").required("port of listener " + l.at("name").text("?"));
      String service = name + "-kafka-bootstrap";
      for (String host :
          List.of(
              service,
              service + "." + namespace,
              service + "." + namespace + ".svc",
              service + "." + namespace + ".svc.cluster.local")) {
        addresses.put(host + ":" + port, 0);
      }
    }
    String authorization = kafka.at("spec", "kafka", "authorization", "type").text("none");
    if (secured && !authorization.equals("simple")) {
      throw refuse(
          "authorization "
              + authorization
              + ": a secured local cluster runs the simple authorizer");
    }
    Map<String, String> config = new LinkedHashMap<>();
    kafka
        .at("spec", "kafka", "config")
        .entries()
        .forEach(e -> config.put(e.getKey(), e.getValue().text("")));
    List<TopicSpec> topics = new ArrayList<>();
    for (Tree t : ofKind("KafkaTopic")) {
      if (!name.equals(t.at("metadata", "labels", "strimzi.io/cluster").text(""))) {
        continue;
      }
      Map<String, String> tc = new LinkedHashMap<>();
      t.at("spec", "config").entries().forEach(e -> tc.put(e.getKey(), e.getValue().text("")));
      topics.add(
          new TopicSpec(
              t.at("spec", "topicName").text(t.name()),
              t.at("spec", "partitions").integer(1),
              t.at("spec", "replicas").integer(nodes),
              tc));
    }
    List<UserSpec> users = new ArrayList<>();
    for (Tree u : ofKind("KafkaUser")) {
      if (!name.equals(u.at("metadata", "labels", "strimzi.io/cluster").text(""))) {
        continue;
      }
      String authType = u.at("spec", "authentication", "type").text("none");
      if (!authType.equals("scram-sha-512")) {
        throw refuse("KafkaUser " + u.name() + " authenticates with " + authType);
      }
      List<AclSpec> acls = new ArrayList<>();
      for (Tree a : u.at("spec", "authorization", "acls").items()) {
        Tree r = a.at("resource");
        String type = r.at("type").required("resource type of an ACL of " + u.name());
        String resourceName =
            type.equals("cluster") ? "kafka-cluster" : r.at("name").required("name");
        List<String> operations =
            a.at("operations").present()
                ? a.at("operations").items().stream().map(t -> t.text("")).toList()
                : List.of(a.at("operation").required("operation of an ACL of " + u.name()));
        if (!a.at("type").text("allow").equals("allow")) {
          throw refuse("KafkaUser " + u.name() + " has a deny rule; local ACLs are allow rules");
        }
        for (String op : operations) {
          acls.add(
              new AclSpec(
                  type,
                  resourceName,
                  r.at("patternType").text("literal"),
                  op,
                  a.at("host").text("*")));
        }
      }
      users.add(new UserSpec(u.name(), u.name(), acls));
    }
    return new KafkaShape(
        nodes,
        secured,
        jvm,
        config,
        addresses,
        secured ? name + "-cluster-ca-cert" : null,
        topics,
        users);
  }

  private Optional<Workload> workload(Tree d) {
    Tree podSpec = d.at("spec", "template", "spec");
    Tree container = null;
    String module = null;
    for (Tree c : podSpec.at("containers").items()) {
      Matcher m = LENET_IMAGE.matcher(c.at("image").text(""));
      if (m.matches()) {
        container = c;
        module = m.group(1);
      }
    }
    if (container == null) {
      return Optional.empty();
    }
    String name = d.name();
    List<EnvVar> env = new ArrayList<>();
    for (Tree from : container.at("envFrom").items()) {
      Optional<String> cm = from.at("configMapRef", "name").text();
      if (cm.isEmpty()) {
        throw refuse(name + ": envFrom other than configMapRef");
      }
      Tree map =
          object("ConfigMap", cm.get())
              .orElseThrow(() -> refuse(name + ": no ConfigMap " + cm.get()));
      map.at("data")
          .entries()
          .forEach(
              e -> env.add(new EnvVar(e.getKey(), new Workload.Literal(e.getValue().text("")))));
    }
    for (Tree e : container.at("env").items()) {
      String var = e.at("name").required("name of an env entry of " + name);
      if (e.at("value").present()) {
        env.add(new EnvVar(var, new Workload.Literal(e.at("value").text(""))));
      } else if (e.at("valueFrom", "secretKeyRef").present()) {
        Tree ref = e.at("valueFrom", "secretKeyRef");
        env.add(
            new EnvVar(
                var,
                new Workload.SecretKey(
                    ref.at("name").required("secret"), ref.at("key").required("key"))));
      } else if (e.at("valueFrom", "configMapKeyRef").present()) {
        Tree ref = e.at("valueFrom", "configMapKeyRef");
        String cm = ref.at("name").required("configMap");
        Tree map = object("ConfigMap", cm).orElseThrow(() -> refuse(name + ": no ConfigMap " + cm));
        env.add(
            new EnvVar(
                var, new Workload.Literal(map.at("data", ref.at("key").required("key")).text(""))));
      } else {
        throw refuse(
            name
                + ": env "
                + var
                + " comes from something other than a value, Secret or ConfigMap");
      }
    }
    int port = -1;
    String portName = null;
    for (Tree p : container.at("ports").items()) {
      if (port < 0) {
        port = p.at("containerPort").integer(-1);
        portName = p.at("name").text(null);
      }
    }
    Map<String, String> probes = new LinkedHashMap<>();
    for (String kind : List.of("startup", "liveness", "readiness")) {
      Tree probe = container.at(kind + "Probe");
      if (probe.present()) {
        Tree get = probe.at("httpGet");
        String probePort = get.at("port").text("");
        if (!get.present()
            || !(probePort.equals(portName) || probePort.equals(String.valueOf(port)))) {
          throw refuse(name + ": its " + kind + " probe is not an HTTP GET on its port");
        }
        probes.put(kind, get.at("path").text("/"));
      }
    }
    Map<String, Workload.Volume> volumes = new LinkedHashMap<>();
    for (Tree v : podSpec.at("volumes").items()) {
      String vName = v.at("name").required("volume name");
      if (v.at("secret").present()) {
        Map<String, String> items = new LinkedHashMap<>();
        v.at("secret", "items")
            .items()
            .forEach(i -> items.put(i.at("key").required("key"), i.at("path").required("path")));
        volumes.put(
            vName,
            new Workload.SecretVolume(
                v.at("secret", "secretName").required("secretName"),
                items,
                v.at("secret", "defaultMode").integer(0644)));
      } else if (v.at("emptyDir").present()) {
        volumes.put(vName, new Workload.EmptyDir());
      } else if (v.at("persistentVolumeClaim").present()) {
        volumes.put(
            vName,
            new Workload.Named(v.at("persistentVolumeClaim", "claimName").required("claimName")));
      } else {
        throw refuse(name + ": volume " + vName + " is not a Secret, emptyDir or claim");
      }
    }
    List<Mount> mounts = new ArrayList<>();
    for (Tree m : container.at("volumeMounts").items()) {
      String vName = m.at("name").required("name of a volume mount");
      Workload.Volume volume = volumes.get(vName);
      if (volume == null) {
        throw refuse(name + ": mounts volume " + vName + ", which the pod does not have");
      }
      mounts.add(
          new Mount(
              m.at("mountPath").required("mountPath"),
              volume,
              Boolean.parseBoolean(m.at("readOnly").text("false"))));
    }
    int replicas = d.at("spec", "replicas").integer(1);
    return Optional.of(
        new Workload(
            name,
            module,
            replicas,
            env,
            port,
            probes,
            mounts,
            mebibytes(container.at("resources", "limits", "memory").text("0"))));
  }

  private Optional<Deployment.LagScaler> lagScaler(
      Map<String, Map<String, String>> secrets, List<Workload> workloads) {
    for (Tree so : ofKind("ScaledObject")) {
      String target = so.at("spec", "scaleTargetRef", "name").required("scaleTargetRef.name");
      for (Tree trigger : so.at("spec", "triggers").items()) {
        if (!trigger.at("type").text("").equals("kafka")) {
          continue;
        }
        Tree md = trigger.at("metadata");
        String authName = trigger.at("authenticationRef", "name").required("authenticationRef");
        Tree auth =
            object("TriggerAuthentication", authName)
                .orElseThrow(() -> refuse("no TriggerAuthentication " + authName));
        Map<String, String[]> params = new LinkedHashMap<>();
        for (Tree ref : auth.at("spec", "secretTargetRef").items()) {
          params.put(
              ref.at("parameter").text(""),
              new String[] {ref.at("name").text(""), ref.at("key").text("")});
        }
        String[] userRef = params.get("username");
        String[] passwordRef = params.get("password");
        if (userRef == null || passwordRef == null) {
          throw refuse("TriggerAuthentication " + authName + " names no username or password");
        }
        String user =
            Optional.ofNullable(secrets.get(userRef[0]))
                .map(s -> s.get(userRef[1]))
                .orElseThrow(
                    () ->
                        refuse(
                            "the Secret "
                                + userRef[0]
                                + " with the lag reader's user name is not in the files"));
        int min = so.at("spec", "minReplicaCount").integer(0);
        int max = so.at("spec", "maxReplicaCount").integer(100);
        workloads.replaceAll(w -> w.name().equals(target) ? w.withReplicas(Math.max(min, 1)) : w);
        return Optional.of(
            new Deployment.LagScaler(
                target,
                md.at("consumerGroup").required("consumerGroup"),
                md.at("topic").required("topic"),
                Long.parseLong(md.at("lagThreshold").text("10")),
                md.at("offsetResetPolicy").text("latest"),
                Boolean.parseBoolean(md.at("allowIdleConsumers").text("false")),
                min,
                max,
                user,
                passwordRef[0],
                passwordRef[1]));
      }
    }
    return Optional.empty();
  }

  // -------------------------------------------------------------------------------------- helpers

  private List<Tree> ofKind(String kind) {
    return objects.stream().filter(o -> o.kind().equals(kind)).toList();
  }

  private Optional<Tree> object(String kind, String name) {
    return ofKind(kind).stream().filter(o -> o.name().equals(name)).findFirst();
  }

  private IllegalArgumentException refuse(String what) {
    return new IllegalArgumentException(source + ": " + what);
  }

  /** A Kubernetes memory quantity in MiB (0 for none). */
  static long mebibytes(String quantity) {
    Matcher m = QUANTITY.matcher(quantity.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a memory quantity: " + quantity);
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "" : m.group(2);
    return switch (unit) {
      case "Ki" -> n / 1024;
      case "Mi" -> n;
      case "Gi" -> n * 1024;
      case "Ti" -> n * 1024 * 1024;
      case "k" -> n * 1000 / (1024 * 1024);
      case "M" -> n * 1_000_000 / (1024 * 1024);
      case "G" -> n * 1_000_000_000 / (1024 * 1024);
      case "T" -> n * 1_000_000_000_000L / (1024 * 1024);
      default -> n / (1024 * 1024);
    };
  }
}
