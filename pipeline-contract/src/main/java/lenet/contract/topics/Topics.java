package lenet.contract.topics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * Resolves topic names (and the image topic's partitions) from configuration and creates missing
 * topics sized for the cluster, so nothing relies on broker auto-creation.
 */
public final class Topics {

  private static final Logger LOG = Logger.getLogger(Topics.class);

  private final Map<Topic, String> names;
  private final Map<Topic, Integer> partitions;

  public Topics(Map<Topic, String> names) {
    this(names, Map.of());
  }

  private Topics(Map<Topic, String> names, Map<Topic, Integer> partitions) {
    this.names = new EnumMap<>(names);
    this.partitions = new EnumMap<>(Topic.class);
    for (Topic t : Topic.values()) {
      this.partitions.put(t, partitions.getOrDefault(t, t.partitions()));
    }
  }

  /**
   * Names from {@code topics.*} keys, defaults otherwise; the image topic's partitions from {@code
   * topics.digits-images.partitions}.
   */
  public static Topics from(Config config) {
    Map<Topic, String> names = new EnumMap<>(Topic.class);
    for (Topic t : Topic.values()) {
      names.put(t, config.getOptionalValue(t.configKey(), String.class).orElse(t.defaultName()));
    }
    Topics topics = new Topics(names);
    for (Topic t : Topic.values()) {
      Optional<Integer> n =
          t.partitionsKey().flatMap(k -> config.getOptionalValue(k, Integer.class));
      if (n.isPresent()) {
        topics = topics.withPartitions(t, n.get());
      }
    }
    return topics;
  }

  /**
   * These topics with {@code topic} at {@code partitions} (only a topic with a {@link
   * Topic#partitionsKey()}: the others' single partition keeps their order).
   */
  public Topics withPartitions(Topic topic, int partitions) {
    if (topic.partitionsKey().isEmpty()) {
      throw new IllegalArgumentException(topic.defaultName() + " keeps its partitions");
    }
    if (partitions < 1) {
      throw new IllegalArgumentException(
          topic.partitionsKey().get() + " must be at least 1, not " + partitions);
    }
    Map<Topic, Integer> changed = new EnumMap<>(this.partitions);
    changed.put(topic, partitions);
    return new Topics(names, changed);
  }

  public static Topics defaults() {
    Map<Topic, String> names = new EnumMap<>(Topic.class);
    for (Topic t : Topic.values()) {
      names.put(t, t.defaultName());
    }
    return new Topics(names);
  }

  public String name(Topic topic) {
    return names.get(topic);
  }

  /** The partitions {@link #ensureAll} gives the topic. */
  public int partitions(Topic topic) {
    return partitions.get(topic);
  }

  /**
   * Creates every pipeline topic that does not exist yet, with {@link Topic#replicationFactor(int)}
   * copies for the cluster (the brokers registered now, or the cluster's {@code
   * default.replication.factor} when that is larger, so a service started while a broker is away
   * does not create thinner topics) and {@code min.insync.replicas} to match. Raises the image
   * topic's partitions to its setting. Safe to call from several services at once.
   */
  public void ensureAll(KafkaConnection kafka) {
    try (Admin admin =
        Admin.create(
            kafka.admin(Map.of(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000)))) {
      int replicas = Topic.replicationFactor(clusterSize(admin));
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (Topic t : Topic.values()) {
        if (!existing.contains(name(t))) {
          missing.add(
              new NewTopic(name(t), partitions(t), (short) replicas).configs(t.configs(replicas)));
        }
      }
      create(admin, missing, replicas);
      checkExisting(admin, existing, replicas);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "Could not create the pipeline topics on "
              + kafka
              + ": is the broker running? ("
              + e.getMessage()
              + ")",
          e);
    }
  }

  /** Brokers registered now, or the cluster's default replication factor when larger. */
  private static int clusterSize(Admin admin)
      throws InterruptedException, ExecutionException, TimeoutException {
    Collection<Node> nodes = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
    int defaultReplicas = 1;
    if (!nodes.isEmpty()) {
      ConfigResource broker =
          new ConfigResource(
              ConfigResource.Type.BROKER, String.valueOf(nodes.iterator().next().id()));
      ConfigEntry entry =
          admin
              .describeConfigs(List.of(broker))
              .all()
              .get(30, TimeUnit.SECONDS)
              .get(broker)
              .get("default.replication.factor");
      if (entry != null && entry.value() != null) {
        defaultReplicas = Integer.parseInt(entry.value());
      }
    }
    return Math.max(nodes.size(), defaultReplicas);
  }

  private static void create(Admin admin, List<NewTopic> missing, int replicas)
      throws InterruptedException, ExecutionException, TimeoutException {
    if (missing.isEmpty()) {
      return;
    }
    for (var entry : admin.createTopics(missing).values().entrySet()) {
      try {
        entry.getValue().get(30, TimeUnit.SECONDS);
        LOG.infof("Created topic %s (%d replicas)", entry.getKey(), replicas);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
    }
  }

  /**
   * Grows the image topic to its configured partitions; says so when a topic has fewer copies than
   * this cluster would give it (created on a smaller cluster: Kafka's partition reassignment adds
   * replicas, nothing here does it by itself).
   */
  private void checkExisting(Admin admin, Set<String> existing, int replicas)
      throws InterruptedException, ExecutionException, TimeoutException {
    List<String> ours =
        Arrays.stream(Topic.values()).map(this::name).filter(existing::contains).toList();
    if (ours.isEmpty()) {
      return;
    }
    Map<String, TopicDescription> described =
        admin.describeTopics(ours).allTopicNames().get(30, TimeUnit.SECONDS);
    for (Topic t : Topic.values()) {
      TopicDescription d = described.get(name(t));
      if (d == null) {
        continue;
      }
      int copies = d.partitions().get(0).replicas().size();
      if (copies < replicas) {
        LOG.warnf(
            "Topic %s keeps %d copies of each partition, fewer than the %d this cluster gives new"
                + " topics: add replicas with kafka-reassign-partitions",
            name(t), copies, replicas);
      }
      int want = partitions(t);
      if (d.partitions().size() < want) {
        try {
          admin
              .createPartitions(Map.of(name(t), NewPartitions.increaseTo(want)))
              .all()
              .get(30, TimeUnit.SECONDS);
          LOG.infof("Topic %s: %d -> %d partitions", name(t), d.partitions().size(), want);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof InvalidPartitionsException)) {
            throw e; // InvalidPartitions: another service grew it first
          }
        }
      } else if (d.partitions().size() > want) {
        LOG.warnf(
            "Topic %s has %d partitions, more than its setting %d (Kafka cannot remove partitions)",
            name(t), d.partitions().size(), want);
      }
    }
  }
}
