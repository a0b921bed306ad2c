package lenet.contract.topics;

import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Every topic of the pipeline, declared once: default name, the config key that overrides the name,
 * partitions and topic settings. Dataset and model topics keep their data forever; state stores
 * (latest manifest and latest model per name) are compacted.
 */
public enum Topic {
  /** Preprocessed training images, in batches; one partition keeps a copy in order. */
  MNIST_TRAIN("mnist.train", 1, Dataset.CONFIGS),
  MNIST_DEV("mnist.dev", 1, Dataset.CONFIGS),
  MNIST_TEST("mnist.test", 1, Dataset.CONFIGS),
  /** Latest complete copy per dataset name. */
  MNIST_MANIFESTS("mnist.manifests", 1, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact")),
  TRAINING_COMMANDS("training.commands", 1, Map.of()),
  TRAINING_EVENTS("training.events", 1, Map.of()),
  /**
   * Checkpoints, key = {@code <model>/v<version>} ({@link lenet.contract.wire.Checkpoint#key}):
   * compaction keeps every version until the inference service's retention writes a tombstone for
   * an old candidate (never the champion or a pinned version).
   */
  MODEL_CHECKPOINTS(
      "model.checkpoints",
      1,
      Map.of(
          TopicConfig.CLEANUP_POLICY_CONFIG,
          "compact",
          TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
          String.valueOf(Topic.LARGE_RECORD))),
  /**
   * Fleet-wide decisions on which model serves ({@link lenet.contract.wire.ModelControl}):
   * promotions and rejections per candidate, the pin. Compacted: the latest record per key is the
   * state a new replica starts from.
   */
  MODEL_CONTROL("model.control", 1, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact")),
  DIGITS_IMAGES(
      "digits.images",
      3,
      Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(Topic.LARGE_RECORD))),
  DIGITS_PREDICTIONS("digits.predictions", 3, Map.of()),
  DIGITS_IMAGES_DLQ(
      "digits.images.dlq",
      1,
      Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(Topic.LARGE_RECORD)));

  /**
   * 4 MiB: a checkpoint (~253 KB), a dataset batch (~785 KB at 250 images) or a large PNG fit with
   * room.
   */
  public static final int LARGE_RECORD = 4 * 1024 * 1024;

  /** Kept in a holder: enum constants initialize before the enum's own static fields. */
  private static final class Dataset {
    static final Map<String, String> CONFIGS =
        Map.of(
            TopicConfig.RETENTION_MS_CONFIG, "-1",
            TopicConfig.RETENTION_BYTES_CONFIG, "-1",
            TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(LARGE_RECORD));
  }

  private final String defaultName;
  private final int partitions;
  private final Map<String, String> configs;

  Topic(String defaultName, int partitions, Map<String, String> configs) {
    this.defaultName = defaultName;
    this.partitions = partitions;
    this.configs = configs;
  }

  public String defaultName() {
    return defaultName;
  }

  /** The configuration key that renames the topic, e.g. {@code topics.digits-images}. */
  public String configKey() {
    return "topics." + defaultName.replace('.', '-');
  }

  public int partitions() {
    return partitions;
  }

  public Map<String, String> configs() {
    return configs;
  }
}
