package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import lenet.contract.topics.Topic;
import lenet.launcher.deploy.Pod;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The lifecycle every booted deployment must pass ({@link KubernetesDeploymentIT}, {@link
 * ComposeDeploymentIT}): ingest completes and a first run's model is promoted and served by both
 * inference replicas; each replica answers on its declared probe paths, over HTTP and the Open
 * Inference Protocol; a second run never serves before it completes, then is promoted; a pin on one
 * replica reaches the other and a follow on the other ends it; image events sent while a replica is
 * killed (-9) and started again are each scored exactly once, and the restarted replica serves the
 * champion. A subclass boots its files into {@link #pipeline} in its {@code @BeforeAll}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class BootedLifecycle {

  BootedPipeline pipeline;
  long champion;

  /** Prefix of this deployment's run ids. */
  abstract String name();

  /** How many image events are sent through a kill -9. */
  abstract int eventsThroughAKill();

  @AfterAll
  void stop() {
    if (pipeline != null) {
      pipeline.close();
    }
  }

  @Test
  @Order(2)
  void ingestTrainsTheGatePromotesAndBothReplicasServeTheChampion() throws Exception {
    pipeline.startRun(name() + "-1", 1);
    champion = pipeline.awaitCompleted(name() + "-1").modelVersion();
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
      assertThat(p.workload().probes()).as(p.name() + "'s probes").isNotEmpty();
      for (var probe : p.workload().probes().entrySet()) {
        String kind = probe.getKey();
        String path = probe.getValue();
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
    BootedPipeline.RunWatch watch = pipeline.trainWatching(name() + "-2", 2);
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
    Set<String> ids = new HashSet<>(pipeline.sendImages("kill9-", eventsThroughAKill()));
    killer.join(60_000);
    assertThat(killed).isTrue();
    victim.awaitStarted(Duration.ofMinutes(3));
    Map<String, Integer> counts = new java.util.concurrent.ConcurrentHashMap<>();
    await(eventsThroughAKill() + " predictions")
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
        "%d events through a kill -9: %d predicted, %d duplicated%n",
        eventsThroughAKill(), counts.size(), duplicated);
    assertThat(duplicated).as("events answered twice").isZero();
    pipeline.awaitServing(champion, Duration.ofMinutes(2));
  }
}
