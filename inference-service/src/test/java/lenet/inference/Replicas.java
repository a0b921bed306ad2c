package lenet.inference;

import ai.djl.Device;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.KafkaConnection;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.inference.config.InferenceConfig.Policy;
import lenet.inference.model.ModelManager;
import lenet.inference.model.ModelView;
import lenet.kafka.SharedKafka;
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
    return new ModelManager(
        ModelManager.Settings.of(policy, Device.cpu(), topics, name, TestModels.TRUST),
        new SimpleMeterRegistry(),
        KafkaConnection.to(SharedKafka.bootstrapServers()));
  }

  /** What replica {@code m} knows of version {@code v}; fails when it does not list it. */
  static ModelView.Version version(ModelManager m, long v) {
    return m.view().versions().stream()
        .filter(x -> x.version() == v)
        .findFirst()
        .orElseThrow(() -> new AssertionError(m.settings().replicaId() + " does not list v" + v));
  }

  /** Where version {@code v} stands on replica {@code m}, null while it does not list it. */
  static ModelView.Status status(ModelManager m, long v) {
    return m.view().versions().stream()
        .filter(x -> x.version() == v)
        .findFirst()
        .map(ModelView.Version::status)
        .orElse(null);
  }
}
