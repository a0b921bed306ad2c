package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import lenet.launcher.deploy.Deployment;
import lenet.launcher.deploy.KubernetesFiles;
import lenet.launcher.deploy.Pod;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * {@code deploy/overlays/keda} as a cluster would run it, rendered by the real {@code kubectl
 * kustomize} and booted as processes ({@link BootedPipeline}): a three-node KRaft cluster that
 * takes only TLS + SCRAM-SHA-512 clients with the files' broker settings, the files' topics, users
 * and ACLs, the Secrets, and every Deployment with exactly its pods' environment, two inference
 * replicas. On it: ingest, a first run, the gate, both replicas serving the champion, a run that
 * never serves before it completes, a pin on one replica reaching the other, the probe paths as
 * declared, HTTP and the Open Inference Protocol on each replica, KEDA's lag read as user {@code
 * keda}, 10,000 image events scored exactly once through a kill -9 of a replica; and the files
 * changed as a user might change them (an ACL removed, {@code INFERENCE_POLICY: latest}) caught.
 */
class KubernetesDeploymentIT extends BootedLifecycle {

  static final Path DEPLOY = Services.REPO.resolve("deploy");
  static final String OVERLAY = "overlays/keda";

  Deployment files;

  @BeforeAll
  void boot() throws Exception {
    assumeTrue(
        KubernetesFiles.kustomizeCommand().isPresent(),
        "neither kubectl nor kustomize is on the PATH: deploy/ is not booted");
    files = KubernetesFiles.render(DEPLOY.resolve(OVERLAY));
    pipeline = BootedPipeline.boot(files, "k8s-keda", 2, "mnist-data");
  }

  @Override
  String name() {
    return "k8s";
  }

  @Override
  int eventsThroughAKill() {
    return 10_000;
  }

  @Test
  @Order(1)
  void theFilesShapeTheCluster() {
    assertThat(files.kafka().nodes()).isEqualTo(3);
    assertThat(files.kafka().secured()).isTrue();
    assertThat(pipeline.inference()).hasSize(2);
    // Every variable a pod gets is the files' or the image's, or mapped, or the tests' smaller
    // dataset; and the cluster address the files give is the local cluster's.
    Pod inference = pipeline.inference().get(0);
    assertThat(inference.environment())
        .containsEntry("KAFKA_BOOTSTRAP_SERVERS", pipeline.cluster.bootstrapServers())
        .containsEntry("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
        .containsEntry("INFERENCE_POLICY", "gated")
        .containsEntry("QUARKUS_HTTP_HOST", "127.0.0.1");
    assertThat(Path.of(inference.environment().get("KAFKA_SSL_TRUSTSTORE_LOCATION")))
        .isRegularFile();
    assertThat(Path.of(inference.environment().get("INFERENCE_SIGNING_CONTROL_KEY_FILE")))
        .isRegularFile();
  }

  @Test
  @Order(5)
  void kedaReadsTheBacklogAsUserKedaAndARestartedReplicaServesTheChampion() throws Exception {
    Deployment.LagScaler scaler = files.lagScaler().orElseThrow();
    assertThat(scaler.workload()).isEqualTo(pipeline.inference().get(0).workload().name());
    Map<String, Object> keda =
        pipeline.cluster.userSettings(scaler.user(), scaler.passwordSecret(), scaler.passwordKey());
    assertThat(KedaLag.read(scaler, keda).total()).as("lag with nothing sent").isZero();
    // Replica 0 stops as a pod is deleted, replica 1 is killed: nobody scores, the backlog grows.
    pipeline.inference().get(0).stop(Duration.ofSeconds(30));
    pipeline.inference().get(1).kill();
    Set<String> ids = new HashSet<>(pipeline.sendImages("keda-", 1500));
    KedaLag lag = KedaLag.read(scaler, keda);
    assertThat(lag.total()).as("the lag KEDA reads as user " + scaler.user()).isEqualTo(1500);
    assertThat(lag.desiredReplicas(scaler)).as("replicas KEDA asks for").isEqualTo(2);
    for (Pod p : pipeline.inference()) {
      p.start();
    }
    for (Pod p : pipeline.inference()) {
      p.awaitStarted(Duration.ofMinutes(3));
    }
    pipeline.awaitServing(champion, Duration.ofMinutes(2));
    await("the backlog is scored")
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(2))
        .until(() -> KedaLag.read(scaler, keda).total() == 0);
    Map<String, Integer> counts = pipeline.predictionCounts(ids);
    assertThat(counts).hasSize(ids.size());
    assertThat(counts.values()).allMatch(c -> c == 1);
  }

  @Test
  @Order(7)
  void anInferenceUserWithoutItsCheckpointsAclFailsWithTheAuthorizationErrorNamed()
      throws Exception {
    Deployment withoutAcl =
        mutated(
            "base/users.yaml",
            text -> {
              Matcher m =
                  Pattern.compile(
                          "(?s)(name: inference-service\\n.*?)      - resource: \\{type: topic, name: model\\.checkpoints, patternType: literal\\}\\n        operations: \\[Read\\]\\n")
                      .matcher(text);
              assertThat(m.find()).as("the inference user's Read on model.checkpoints").isTrue();
              return m.replaceFirst(Matcher.quoteReplacement(m.group(1)));
            });
    Pod pod = pipeline.inference().get(1);
    pipeline.cluster.applyUsers(withoutAcl);
    try {
      pipeline.cluster.restartFrom(withoutAcl, pod);
      await("the replica names the authorization error")
          .atMost(Duration.ofMinutes(2))
          .until(() -> pod.authorizationError().isPresent());
      assertThat(pod.authorizationError().orElseThrow())
          .contains("TopicAuthorizationException")
          .contains("model.checkpoints");
      // Its HTTP server runs (live), but it is not ready without its checkpoints.
      await("the replica answers, not ready")
          .atMost(Duration.ofMinutes(2))
          .ignoreExceptions()
          .until(
              () ->
                  Services.get(pod.port(), pod.probe("liveness").orElseThrow()).statusCode() == 200
                      && Services.get(pod.port(), pod.probe("readiness").orElseThrow()).statusCode()
                          != 200);
    } finally {
      pipeline.cluster.applyUsers(files);
      pipeline.cluster.restartFrom(files, pod).awaitStarted(Duration.ofMinutes(3));
    }
    pipeline.awaitServing(champion, Duration.ofMinutes(2));
  }

  @Test
  @Order(8)
  void inferencePolicyLatestInTheFilesServesAnUnfinishedRun() throws Exception {
    Deployment latest =
        mutated(
            "base/config.yaml",
            text -> {
              assertThat(text).contains("INFERENCE_POLICY: gated");
              return text.replace("INFERENCE_POLICY: gated", "INFERENCE_POLICY: latest");
            });
    for (Pod p : pipeline.inference()) {
      pipeline.cluster.restartFrom(latest, p);
    }
    for (Pod p : pipeline.inference()) {
      p.awaitStarted(Duration.ofMinutes(3));
      assertThat(p.environment()).containsEntry("INFERENCE_POLICY", "latest");
    }
    BootedPipeline.RunWatch watch = pipeline.trainWatching("k8s-latest", 2);
    assertThatThrownBy(watch::assertNoUnfinishedEpochServed)
        .as("the check that guards the files' policy")
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("served while it was still training");
  }

  @Test
  @Order(9)
  void theHpaOverlaysMetricsAreOnesTheClusterHas() throws Exception {
    String rendered = KubernetesFiles.kustomize(DEPLOY.resolve("overlays/hpa"));
    int checked = 0;
    for (Object doc : new Yaml().loadAll(rendered)) {
      if (!(doc instanceof Map<?, ?> m) || !"HorizontalPodAutoscaler".equals(m.get("kind"))) {
        continue;
      }
      Map<?, ?> spec = (Map<?, ?>) m.get("spec");
      String target = (String) ((Map<?, ?>) spec.get("scaleTargetRef")).get("name");
      Pod pod = pipeline.cluster.pods(target).get(0);
      String metrics = Services.get(pod.port(), "/q/metrics").body();
      for (Object o : (List<?>) spec.get("metrics")) {
        Map<?, ?> metric = (Map<?, ?>) o;
        String type = (String) metric.get("type");
        if (type.equals("Resource")) {
          // metrics-server's CPU (or memory) of the pod: a utilization target needs a request.
          String resource = (String) ((Map<?, ?>) metric.get("resource")).get("name");
          assertThat(requests(rendered, target).keySet())
              .as(target + "'s requests")
              .map(String::valueOf)
              .contains(resource);
          assertThat(metrics).as("the JVM's own CPU figure").contains("process_cpu_usage");
        } else {
          Map<?, ?> body =
              (Map<?, ?>) metric.get(type.substring(0, 1).toLowerCase() + type.substring(1));
          String name = (String) ((Map<?, ?>) body.get("metric")).get("name");
          assertThat(metrics)
              .as("metric " + name + " in " + target + "'s /q/metrics")
              .contains(name);
        }
        checked++;
      }
    }
    assertThat(checked).as("metrics of the HPA overlay").isPositive();
  }

  /** The resource requests of {@code deployment}'s first container in {@code rendered}. */
  private static Map<?, ?> requests(String rendered, String deployment) {
    for (Object doc : new Yaml().loadAll(rendered)) {
      if (doc instanceof Map<?, ?> m
          && "Deployment".equals(m.get("kind"))
          && deployment.equals(((Map<?, ?>) m.get("metadata")).get("name"))) {
        Map<?, ?> pod =
            (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) m.get("spec")).get("template")).get("spec");
        Map<?, ?> container = (Map<?, ?>) ((List<?>) pod.get("containers")).get(0);
        return (Map<?, ?>) ((Map<?, ?>) container.get("resources")).get("requests");
      }
    }
    throw new AssertionError("no Deployment " + deployment);
  }

  /** The overlay rendered from a copy of deploy/ whose {@code file} was changed by {@code edit}. */
  private Deployment mutated(String file, UnaryOperator<String> edit) throws Exception {
    Path copy = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "deploy-mutated-");
    try (Stream<Path> tree = Files.walk(DEPLOY)) {
      for (Path p : (Iterable<Path>) tree::iterator) {
        Path to = copy.resolve(DEPLOY.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
    Path changed = copy.resolve(file);
    Files.writeString(changed, edit.apply(Files.readString(changed)));
    return KubernetesFiles.render(copy.resolve(OVERLAY));
  }
}
