package lenet.inference.model;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.inference.TestModels;
import lenet.inference.config.InferenceConfig.Policy;
import lenet.inference.config.InferenceConfigs;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Extra inference replicas inside a test (a model manager and its follower, as the service builds
 * them), on model topics of the test's own so that tests do not see each other's decisions; the
 * dataset topics stay the shared ones (the gate set).
 */
final class Replicas {

  private Replicas() {}

  /**
   * Fresh checkpoint and control topics named {@code <prefix>-<uuid>...}, created with their
   * settings.
   */
  static Topics ownTopics(String prefix) {
    return ownTopics(prefix, Map.of());
  }

  /** As {@link #ownTopics(String)}, with {@code extra} settings on the checkpoint topic. */
  static Topics ownTopics(String prefix, Map<String, String> extra) {
    String id = prefix + "-" + UUID.randomUUID();
    Map<Topic, String> names = new EnumMap<>(Topic.class);
    for (Topic t : Topic.values()) {
      names.put(t, t.defaultName());
    }
    names.put(Topic.MODEL_CHECKPOINTS, id + "-checkpoints");
    names.put(Topic.MODEL_CONTROL, id + "-control");
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(names.get(Topic.MODEL_CHECKPOINTS), Optional.of(1), Optional.empty())
                      .configs(merged(Topic.MODEL_CHECKPOINTS.configs(), extra)),
                  new NewTopic(names.get(Topic.MODEL_CONTROL), Optional.of(1), Optional.empty())
                      .configs(Topic.MODEL_CONTROL.configs())))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("could not create the test's model topics", e);
    }
    return new Topics(names);
  }

  private static Map<String, String> merged(Map<String, String> a, Map<String, String> b) {
    Map<String, String> out = new java.util.HashMap<>(a);
    out.putAll(b);
    return out;
  }

  static ModelManager manager(Policy policy, Topics topics, String name) {
    return TestModels.manager(
        InferenceConfigs.replica(name, "inference.policy", policy.name().toLowerCase()),
        topics,
        TestModels.TRUST);
  }

  /** What replica {@code m} knows of version {@code v}; fails when it does not list it. */
  static ModelView.Version version(ModelManager m, long v) {
    return m.view().versions().stream()
        .filter(x -> x.version() == v)
        .findFirst()
        .orElseThrow(() -> new AssertionError(m.replicaId() + " does not list v" + v));
  }

  /** Where version {@code v} stands on replica {@code m}, null while it does not list it. */
  static ModelView.Status status(ModelManager m, long v) {
    return m.view().versions().stream()
        .filter(x -> x.version() == v)
        .findFirst()
        .map(ModelView.Version::status)
        .orElse(null);
  }

  /**
   * Gated replicas a test starts on its own model topics, each a manager with its follower (as the
   * service builds them); {@link #close()} closes them all, the last started first.
   */
  static final class Fleet implements AutoCloseable {

    final Topics topics;
    private final List<AutoCloseable> open = new java.util.ArrayList<>();

    Fleet(Topics topics) {
      this.topics = topics;
    }

    /** A replica named {@code name}, following the topics from now on. */
    ModelManager start(String name) {
      ModelManager m = manager(Policy.GATED, topics, name);
      ModelStateFollower f =
          new ModelStateFollower(KafkaConnection.to(SharedKafka.bootstrapServers()), m);
      open.add(m);
      open.add(f);
      f.start();
      return m;
    }

    /** Closes replica {@code m}, its follower first, as a kill would end it. */
    void stop(ModelManager m) throws Exception {
      AutoCloseable follower = open.get(open.indexOf(m) + 1);
      follower.close();
      m.close();
      open.remove(follower);
      open.remove(m);
    }

    /** Publishes a signed checkpoint of {@code params} as epoch {@code epoch} of {@code run}. */
    long publish(byte[] params, String run, int epoch, int epochs) {
      long v = TestModels.nextVersion();
      TestModels.publishCheckpoint(
          topics.name(Topic.MODEL_CHECKPOINTS),
          TestModels.checkpoint(v, 0.9, params, run, epoch, epochs));
      return v;
    }

    @Override
    public void close() throws Exception {
      for (int i = open.size() - 1; i >= 0; i--) {
        open.get(i).close();
      }
      open.clear();
    }
  }

  /** Waits until every one of {@code replicas} serves {@code version}. */
  static void awaitServing(long version, ModelManager... replicas) {
    for (ModelManager m : replicas) {
      org.awaitility.Awaitility.await(m.replicaId() + " serves v" + version)
          .atMost(java.time.Duration.ofSeconds(60))
          .pollInterval(java.time.Duration.ofMillis(50))
          .until(() -> m.serving().map(h -> h.modelVersion() == version).orElse(false));
    }
  }
}
