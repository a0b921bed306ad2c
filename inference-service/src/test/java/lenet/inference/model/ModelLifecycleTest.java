package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.kafka.SharedKafka;
import lenet.model.LeNet5;
import lenet.support.kafka.KafkaConnection;
import lenet.support.kafka.TopicReader;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The model lifecycle across replicas (model managers with their followers, as the service builds
 * them, on model topics of this test's own): only gated candidates of completed runs serve, a worse
 * one is refused, the decision and the pin reach every replica, present or later, and a history
 * with garbage at its end survives forced compaction.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class ModelLifecycleTest {

  private static final Duration CONVERGE = Duration.ofSeconds(10);
  private static final Map<String, String> COMPACT_NOW =
      Map.of(
          "min.compaction.lag.ms", "0",
          "segment.ms", "100",
          "min.cleanable.dirty.ratio", "0.01",
          "delete.retention.ms", "100");

  private Replicas.Fleet fleet;
  private Topics topics;

  @AfterEach
  void closeReplicas() throws Exception {
    if (fleet != null) {
      fleet.close();
    }
  }

  @Test
  void onlyGatedChampionsServeAndDecisionsReachEveryReplica() throws Exception {
    // Compaction as eager as an operator can make it, from the start (the log cleaner then runs
    // every 15 s): whatever it removes, every replica must come to the same state.
    topics = Replicas.ownTopics("lifecycle", COMPACT_NOW);
    fleet = new Replicas.Fleet(topics);
    byte[] trained = TestModels.trainedParameters();
    byte[] untrained = TestModels.untrainedParameters();

    // A first run of two epochs; two replicas.
    long r1e1 = publish(trained, "r1", 1, 2);
    ModelManager a = replica("A");
    ModelManager b = replica("B");
    await().atMost(CONVERGE).until(() -> a.isCaughtUp() && b.isCaughtUp());
    assertThat(a.serving()).as("an epoch of an unfinished run never serves").isEmpty();
    long r1e2 = publish(trained, "r1", 2, 2);
    awaitServing(r1e2, a, b);
    ModelView.Version first = Replicas.version(a, r1e2);
    assertThat(first.status()).isEqualTo(ModelView.Status.CHAMPION);
    assertThat(first.gate().images()).isEqualTo(TestModels.GATE_TRAIN_IMAGES / 5);
    assertThat(first.gate().split()).isEqualTo("dev");
    assertThat(first.gate().accuracy()).as("measured by the gate").isBetween(0.85, 1.0);
    assertThat(Replicas.version(a, r1e1).status()).isEqualTo(ModelView.Status.EPOCH);
    assertThat(a.loadAttempts()).as("epoch 1 was never loaded").isLessThanOrEqualTo(2);

    // A retrain that ends worse: refused on every replica; the champion serves throughout.
    long r2e1 = publish(untrained, "r2", 1, 2);
    long r2e2 = publish(untrained, "r2", 2, 2);
    await("the gate refuses v" + r2e2)
        .atMost(Duration.ofSeconds(60))
        .until(() -> Replicas.status(a, r2e2) == ModelView.Status.REJECTED);
    await().atMost(CONVERGE).until(() -> Replicas.status(b, r2e2) == ModelView.Status.REJECTED);
    assertThat(Replicas.version(a, r2e2).gate().accuracy()).isLessThan(0.5);
    assertThat(Replicas.version(a, r2e2).verdict()).contains("worse");
    assertThat(a.serving().orElseThrow().modelVersion()).isEqualTo(r1e2);
    assertThat(b.serving().orElseThrow().modelVersion()).isEqualTo(r1e2);
    assertThat(Replicas.status(a, r2e1)).isEqualTo(ModelView.Status.EPOCH);

    // A retrain that ends as good: promoted, served by both; both replicas agree on one verdict.
    publish(untrained, "r3", 1, 2);
    long r3e2 = publish(trained, "r3", 2, 2);
    awaitServing(r3e2, a, b);
    assertThat(a.champion()).contains(r3e2);
    assertThat(b.champion()).contains(r3e2);
    assertThat(verdictsFor(r3e2))
        .as("every verdict written on v" + r3e2 + ", by whichever replica gated it")
        .isNotEmpty()
        .allSatisfy(c -> assertThat(c.type()).isEqualTo(ModelControl.Type.PROMOTE));

    // Rollback on A reaches B within 10 s, and a replica that starts later.
    a.activate(r1e2, Duration.ofSeconds(30));
    awaitServing(r1e2, b);
    ModelManager c = replica("C");
    awaitServing(r1e2, c);
    assertThat(c.view().mode()).isEqualTo(ModelView.Mode.PINNED);
    assertThat(c.view().history())
        .anySatisfy(
            h -> {
              assertThat(h.type()).isEqualTo("PIN");
              assertThat(h.by()).isEqualTo("A");
            });
    // A restarted A (closed, as after a kill: nothing of it survives but Kafka) serves the pin.
    fleet.stop(a);
    ModelManager a2 = replica("A2");
    awaitServing(r1e2, a2);

    // Follow on B: all return to the champion.
    b.follow(Duration.ofSeconds(30));
    awaitServing(r3e2, a2, b, c);

    // Garbage and a diverged (NaN) candidate published last, then compaction forced: a new
    // replica serves the champion and lists every kept version.
    long nan = TestModels.nextVersion();
    TestModels.publishCheckpoint(
        checkpoints(), TestModels.checkpoint(nan, 0.99, TestModels.nanParameters(), "r4", 1, 1));
    long garbage = TestModels.nextVersion();
    byte[] junk = "not a checkpoint".getBytes(StandardCharsets.UTF_8);
    TestModels.publish( // signed by the trusted key: it gets as far as its format
        checkpoints(),
        Checkpoint.key(LeNet5.MODEL_NAME, garbage),
        junk,
        lenet.contract.wire.CheckpointSignature.sign(junk, TestModels.SIGNING));
    await("the gate refuses the NaN candidate")
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                Replicas.status(a2, nan) == ModelView.Status.FAILED
                    || Replicas.status(a2, nan) == ModelView.Status.REJECTED);
    forceCompaction();
    ModelManager d = replica("D");
    awaitServing(r3e2, d);
    assertThat(d.view().versions())
        .extracting(ModelView.Version::version)
        .contains(r1e1, r1e2, r2e1, r2e2, r3e2, nan);
    assertThat(Replicas.status(d, nan)).isIn(ModelView.Status.REJECTED, ModelView.Status.FAILED);
    assertThat(d.view().champion()).isEqualTo(r3e2);
    assertThat(Replicas.status(d, r2e2)).isEqualTo(ModelView.Status.REJECTED);
    assertThat(d.view().rejected())
        .anySatisfy(r -> assertThat(r.reason()).isEqualTo("BAD_BINARY_FORMAT"));
  }

  private ModelManager replica(String name) {
    return fleet.start(name);
  }

  private long publish(byte[] params, String run, int epoch, int epochs) {
    return fleet.publish(params, run, epoch, epochs);
  }

  private String checkpoints() {
    return topics.name(Topic.MODEL_CHECKPOINTS);
  }

  private static void awaitServing(long version, ModelManager... replicas) {
    Replicas.awaitServing(version, replicas);
  }

  private List<ModelControl> verdictsFor(long version) {
    List<ModelControl> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : readAll(topics.name(Topic.MODEL_CONTROL))) {
      if (r.value() != null && r.key().startsWith(LeNet5.MODEL_NAME + "/v" + version + "/")) {
        out.add(ModelControl.decode(r.value()));
      }
    }
    return out;
  }

  /**
   * Sets the topic so that the cleaner compacts at once (again: an operator's way), then writes one
   * key twice and waits until a read from the start sees it once: compaction has run over
   * everything before it.
   */
  private void forceCompaction() throws Exception {
    String topic = checkpoints();
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()))) {
      List<AlterConfigOp> ops = new ArrayList<>();
      for (var e : COMPACT_NOW.entrySet()) {
        ops.add(
            new AlterConfigOp(new ConfigEntry(e.getKey(), e.getValue()), AlterConfigOp.OpType.SET));
      }
      admin.incrementalAlterConfigs(Map.of(resource, ops)).all().get(30, TimeUnit.SECONDS);
    }
    // Large, so that the not-yet-compacted part of the log is a fair share of it: the cleaner
    // only takes a log whose dirty share exceeds min.cleanable.dirty.ratio, and the clean part
    // already holds megabytes of checkpoints.
    String marker = LeNet5.MODEL_NAME + "/compaction-marker";
    TestModels.publish(topic, marker, new byte[512 * 1024]);
    Thread.sleep(200);
    TestModels.publish(topic, marker, new byte[512 * 1024]);
    await("the log cleaner compacts " + topic)
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              // Each poll writes a record, which rolls the segment that holds the marker.
              TestModels.publish(topic, LeNet5.MODEL_NAME + "/roll", new byte[0]);
              Map<String, Integer> counts = new HashMap<>();
              readAll(topic).forEach(r -> counts.merge(String.valueOf(r.key()), 1, Integer::sum));
              return counts.getOrDefault(marker, 0) == 1;
            });
  }

  private static List<ConsumerRecord<String, byte[]>> readAll(String topic) {
    return TopicReader.of(KafkaConnection.to(SharedKafka.bootstrapServers())).toEnd(topic);
  }
}
