package lenet.contract.topics;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * Resolves topic names from configuration and creates missing topics, so nothing relies on broker
 * auto-creation.
 */
public final class Topics {

  private static final Logger LOG = Logger.getLogger(Topics.class);

  private final Map<Topic, String> names;

  public Topics(Map<Topic, String> names) {
    this.names = new EnumMap<>(names);
  }

  /** Names from {@code topics.*} keys, defaults otherwise. */
  public static Topics from(Config config) {
    Map<Topic, String> names = new EnumMap<>(Topic.class);
    for (Topic t : Topic.values()) {
      names.put(t, config.getOptionalValue(t.configKey(), String.class).orElse(t.defaultName()));
    }
    return new Topics(names);
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

  /**
   * Creates every pipeline topic that does not exist yet (replication: the broker's default). Safe
   * to call from several services at once.
   */
  public void ensureAll(String bootstrapServers) {
    try (Admin admin =
        Admin.create(
            Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                30_000))) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (Topic t : Topic.values()) {
        if (!existing.contains(name(t))) {
          missing.add(
              new NewTopic(name(t), Optional.of(t.partitions()), Optional.empty())
                  .configs(t.configs()));
        }
      }
      if (missing.isEmpty()) {
        return;
      }
      for (var entry : admin.createTopics(missing).values().entrySet()) {
        try {
          entry.getValue().get(30, TimeUnit.SECONDS);
          LOG.infof("Created topic %s", entry.getKey());
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "Could not create the pipeline topics on "
              + bootstrapServers
              + ": is the broker running? ("
              + e.getMessage()
              + ")",
          e);
    }
  }
}
