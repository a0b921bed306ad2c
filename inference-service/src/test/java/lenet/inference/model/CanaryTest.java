package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.ModelControl.Tally;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.config.InferenceConfigs;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import org.junit.jupiter.api.Test;

/**
 * The live decisions of a replica with real models on the shared broker, its live figures set by
 * the test (the outcomes join that computes them in the service is tested on its own): a candidate
 * that passed its gate answers a share of requests as canary, is promoted when its live accuracy is
 * not worse than the champion's over the same period, is rolled back when it then does worse than
 * the champion it replaced, and a champion whose live accuracy falls below its gate's has its drift
 * signalled; a worse canary is dropped and never becomes champion.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class CanaryTest {

  /** Each version's labelled outcomes, as the test says. */
  private final Map<Long, Tally> tallies = new ConcurrentHashMap<>();

  private final LiveCounts live =
      version -> Optional.of(tallies.getOrDefault(version, new Tally(version, 0, 0, 0)));

  @Test
  void aCanaryIsPromotedOnLiveAccuracyRolledBackWhenWorseAndAWorseOneIsDropped() throws Exception {
    Topics topics = Replicas.ownTopics("canary");
    String checkpoints = topics.name(Topic.MODEL_CHECKPOINTS);
    try (ModelManager m =
            TestModels.manager(
                InferenceConfigs.replica(
                    "canarying",
                    "inference.canary.fraction",
                    "0.5",
                    "inference.canary.min-labelled",
                    "50",
                    "inference.canary.check-every",
                    "200ms",
                    "inference.drift.min-labelled",
                    "50"),
                topics,
                TestModels.TRUST,
                live);
        ModelStateFollower f =
            new ModelStateFollower(KafkaConnection.to(SharedKafka.bootstrapServers()), m)) {
      f.start();
      long first = TestModels.nextVersion();
      TestModels.publishCheckpoint(checkpoints, TestModels.checkpoint(first, 0.9));
      await("v" + first + " promoted on its gate: no champion to canary against")
          .atMost(Duration.ofSeconds(60))
          .until(() -> m.champion().filter(v -> v == first).isPresent());
      TestModels.awaitServing(m, first);
      tallies.put(first, new Tally(first, 1000, 950, 950));

      // The next candidate passes its gate and answers about half the requests.
      long second = TestModels.nextVersion();
      TestModels.publishCheckpoint(checkpoints, TestModels.checkpoint(second, 0.9));
      await("v" + second + " runs as canary")
          .atMost(Duration.ofSeconds(60))
          .until(() -> m.view().canaryHere() != null && m.view().canaryHere() == second);
      assertThat(Replicas.status(m, second)).isEqualTo(ModelView.Status.CANARY);
      assertThat(m.champion()).contains(first);
      assertThat(answeredBy(m)).containsExactlyInAnyOrder(first, second);
      try (ModelLease pinned = m.lease(false)) {
        assertThat(pinned.version()).as("a request for the serving version").isEqualTo(first);
      }
      Thread.sleep(1000);
      assertThat(m.champion()).as("no labels yet: the canary waits").contains(first);

      // 97% against 95% on 200 each is not enough to tell at 1 point of tolerance ...
      tallies.put(first, new Tally(first, 1200, 1140, 1140));
      tallies.put(second, new Tally(second, 200, 194, 194));
      Thread.sleep(1000);
      assertThat(m.champion()).contains(first);
      // ... on 1,000 each it is: promoted.
      tallies.put(first, new Tally(first, 2000, 1900, 1900));
      tallies.put(second, new Tally(second, 1000, 970, 970));
      await("v" + second + " promoted on live accuracy")
          .atMost(Duration.ofSeconds(30))
          .until(() -> m.champion().filter(v -> v == second).isPresent());
      TestModels.awaitServing(m, second);
      ModelView.Version promoted = Replicas.version(m, second);
      assertThat(promoted.verdict()).contains("promoted on live traffic").contains("0.9700");
      assertThat(promoted.liveDecision().subject().labelled()).isEqualTo(1000);
      assertThat(promoted.liveDecision().baseline().labelled()).isEqualTo(1000);
      assertThat(answeredBy(m)).containsExactly(second);

      // Since its promotion it does much worse (60% on 300) than v1 over the canary (95%).
      tallies.put(second, new Tally(second, 1300, 1150, 1150));
      await("v" + second + " rolled back")
          .atMost(Duration.ofSeconds(30))
          .until(() -> Replicas.status(m, second) == ModelView.Status.ROLLED_BACK);
      assertThat(m.champion()).contains(first);
      TestModels.awaitServing(m, first);
      assertThat(m.view().history().get(0).type()).isEqualTo("ROLLBACK");
      assertThat(m.view().history().get(0).reason())
          .contains("rolled back to v" + first)
          .contains("0.6000");

      // A worse canary (50% against the champion's 95%) is dropped.
      long third = TestModels.nextVersion();
      TestModels.publishCheckpoint(checkpoints, TestModels.checkpoint(third, 0.9));
      await("v" + third + " runs as canary")
          .atMost(Duration.ofSeconds(60))
          .until(() -> Replicas.status(m, third) == ModelView.Status.CANARY);
      tallies.put(first, new Tally(first, 3000, 2850, 2850));
      tallies.put(third, new Tally(third, 1000, 500, 500));
      await("v" + third + " dropped")
          .atMost(Duration.ofSeconds(30))
          .until(() -> Replicas.status(m, third) == ModelView.Status.REJECTED);
      assertThat(Replicas.version(m, third).verdict()).contains("dropped on live traffic");
      assertThat(m.champion()).contains(first);
      await("the canary closes")
          .atMost(Duration.ofSeconds(10))
          .until(() -> m.view().canaryHere() == null);
      assertThat(answeredBy(m)).containsExactly(first);

      // The champion's live accuracy falls far below its gate's: drift is signalled, once.
      tallies.put(first, new Tally(first, 4000, 2250, 2250));
      await("drift of v" + first)
          .atMost(Duration.ofSeconds(30))
          .until(() -> m.view().history().stream().anyMatch(h -> h.type().equals("DRIFT")));
      assertThat(
              m.view().history().stream()
                  .filter(h -> h.type().equals("DRIFT"))
                  .findFirst()
                  .orElseThrow()
                  .reason())
          .contains("champion v" + first)
          .contains("drift (")
          .contains("0.5625");
      assertThat(m.champion()).as("drift changes nothing by itself").contains(first);
    }
  }

  /** The versions that answer 200 requests that may go to a canary. */
  private static Set<Long> answeredBy(ModelManager m) {
    Set<Long> versions = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      try (ModelLease lease = m.lease(true)) {
        versions.add(lease.version());
      }
    }
    return versions;
  }
}
