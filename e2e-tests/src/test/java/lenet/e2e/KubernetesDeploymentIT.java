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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import lenet.contract.topics.Topic;
import lenet.launcher.deploy.Deployment;
import lenet.launcher.deploy.KubernetesFiles;
import lenet.launcher.deploy.Pod;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
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
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubernetesDeploymentIT {

  static final Path DEPLOY = Services.REPO.resolve("deploy");
  static final String OVERLAY = "overlays/keda";

  static Deployment files;
  static BootedPipeline pipeline;
  static long champion;

  @BeforeAll
  static void boot() throws Exception {
    assumeTrue(
        KubernetesFiles.kustomizeCommand().isPresent(),
        "neither kubectl nor kustomize is on the PATH: deploy/ is not booted");
    files = KubernetesFiles.render(DEPLOY.resolve(OVERLAY));
    pipeline = BootedPipeline.boot(files, "k8s-keda", 2, "mnist-data");
  }

  @AfterAll
  static void stop() {
    if (pipeline != null) {
      pipeline.close();
    }
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
  @Order(2)
  void ingestTrainsTheGatePromotesAndBothReplicasServeTheChampion() throws Exception {
    pipeline.startRun("k8s-1", 1);
    champion = pipeline.awaitCompleted("k8s-1").modelVersion();
    pipeline.awaitServing(champion, Duration.ofMinutes(2));
    assertThat(pipeline.read(Topic.MNIST_MANIFESTS)).as("ingest's complete copy").isNotEmpty();
    for (Pod p : pipeline.inference()) {
      assertThat(Services.get(p.port(), "/api/models").body()).contains("\"champion\":" + champion);
    }
  }

  @Test
  @Order(3)
  void everyReplicaAnswersOnItsProbePathsOverHttpAndTheOpenInferenceProtocol() throws Exception {
    for (Pod p : pipeline.inference()) {
      for (String kind : List.of("startup", "liveness", "readiness")) {
        String path =
            p.probe(kind)
                .orElseThrow(() -> new AssertionError(p.name() + " has no " + kind + " probe"));
        assertThat(Services.get(p.port(), path).statusCode())
            .as(p.name() + " " + kind + " " + path)
            .isEqualTo(200);
      }
      String pixels = String.join(",", java.util.Collections.nCopies(784, "0"));
      var oip =
          Services.post(
              p.port(),
              "/v2/models/lenet5/infer",
              "application/json",
              "{\"inputs\":[{\"name\":\"images\",\"datatype\":\"UINT8\",\"shape\":[1,28,28],\"data\":["
                  + pixels
                  + "]}]}");
      assertThat(oip.statusCode()).as(p.name() + " OIP: " + oip.body()).isEqualTo(200);
      var predict =
          Services.post(
              p.port(), "/api/predict", "application/json", "{\"pixels\":[" + pixels + "]}");
      assertThat(predict.statusCode())
          .as(p.name() + " /api/predict: " + predict.body())
          .isEqualTo(200);
      assertThat(predict.body()).contains("\"modelVersion\":" + champion);
    }
  }

  @Test
  @Order(4)
  void aRunNeverServesBeforeItCompletesAndAPinReachesTheOtherReplica() throws Exception {
    BootedPipeline.RunWatch watch = pipeline.trainWatching("k8s-2", 2);
    watch.assertNoUnfinishedEpochServed();
    assertThat(watch.served()).contains(champion);
    long first = champion;
    long second = watch.completed().modelVersion();
    // Two epochs beat one on the same data and seed: the gate promotes the second run.
    pipeline.awaitServing(second, Duration.ofMinutes(2));
    champion = second;
    Pod a = pipeline.inference().get(0);
    Pod b = pipeline.inference().get(1);
    long target = first;
    var pin =
        BootedPipeline.operatorPost(a, "/api/models/" + target + "/activate", pipeline.token());
    assertThat(pin.statusCode()).as("pin: " + pin.body()).isIn(200, 202);
    pipeline.awaitServing(target, Duration.ofMinutes(1));
    assertThat(Services.get(b.port(), "/api/models").body()).contains("\"pinned\":" + target);
    var follow = BootedPipeline.operatorPost(b, "/api/models/follow", pipeline.token());
    assertThat(follow.statusCode()).as("follow: " + follow.body()).isIn(200, 202);
    await("the fleet follows its champion again")
        .atMost(Duration.ofMinutes(1))
        .until(
            () -> !Services.get(a.port(), "/api/models").body().contains("\"pinned\":" + target));
    pipeline.awaitServing(champion, Duration.ofMinutes(1));
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
  @Order(6)
  void tenThousandImageEventsThroughAKill9OfAReplicaAreScoredExactlyOnce() throws Exception {
    Pod victim = pipeline.inference().get(0);
    AtomicBoolean killed = new AtomicBoolean();
    Thread killer =
        new Thread(
            () -> {
              try {
                Thread.sleep(3000);
                victim.kill();
                killed.set(true);
                Thread.sleep(2000);
                victim.start();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "killer");
    killer.start();
    Set<String> ids = new HashSet<>(pipeline.sendImages("kill9-", 10_000));
    killer.join(60_000);
    assertThat(killed).isTrue();
    victim.awaitStarted(Duration.ofMinutes(3));
    Map<String, Integer> counts = new java.util.concurrent.ConcurrentHashMap<>();
    await("10,000 predictions")
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofSeconds(3))
        .until(
            () -> {
              counts.clear();
              counts.putAll(pipeline.predictionCounts(ids));
              return counts.size() == ids.size();
            });
    long duplicated = counts.values().stream().filter(c -> c > 1).count();
    System.out.printf(
        "10,000 events through a kill -9: %d predicted, %d duplicated%n",
        counts.size(), duplicated);
    assertThat(duplicated).as("events answered twice").isZero();
    pipeline.awaitServing(champion, Duration.ofMinutes(2));
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
      assertThat(Services.get(pod.port(), pod.probe("readiness").orElseThrow()).statusCode())
          .as("not ready without its checkpoints")
          .isNotEqualTo(200);
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
  private static Deployment mutated(String file, UnaryOperator<String> edit) throws Exception {
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
