package lenet.contract.topics;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import lenet.support.kafka.KafkaClients;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Every topic of the pipeline, declared once: default name, the config key that overrides the name,
 * partitions, topic settings and how it is replicated. Dataset and model topics keep their data
 * forever; state stores (latest manifest and latest model per name) are compacted.
 *
 * <p>The one source of the topic table: the deployment copies ({@code deploy/base/topics.yaml}, the
 * {@code kafka-topics} service of {@code docker-compose.yml}) are rendered from it and a test
 * (pipeline-contract's {@code TopicCopiesTest}) fails when they differ.
 */
public enum Topic {
  MNIST_TRAIN(
      "mnist.train",
      1,
      Dataset.CONFIGS,
      "Preprocessed training images (48,000), in batches; kept forever so that every run reads the"
          + " same copy."),
  MNIST_DEV(
      "mnist.dev",
      1,
      Dataset.CONFIGS,
      "Dev (validation) images: the last 20% of the training file (12,000)."),
  MNIST_TEST("mnist.test", 1, Dataset.CONFIGS, "Test images (10,000)."),
  MNIST_MANIFESTS(
      "mnist.manifests",
      1,
      Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact"),
      "Latest complete copy per dataset name."),
  TRAINING_COMMANDS(
      "training.commands",
      1,
      Map.of(),
      "Training run requests and cancellations (JSON; {} = configured defaults)."),
  TRAINING_EVENTS(
      "training.events",
      1,
      Map.of(),
      "Run progress: QUEUED, STARTED, EPOCH, COMPLETED, FAILED, CANCELLED; key = runId."),
  /** Key = {@code <model>/v<version>} ({@link lenet.contract.wire.Checkpoint#key}). */
  MODEL_CHECKPOINTS(
      "model.checkpoints",
      1,
      Map.of(
          TopicConfig.CLEANUP_POLICY_CONFIG,
          "compact",
          TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
          String.valueOf(Topic.LARGE_RECORD)),
      "Checkpoints, key = lenet5/v<version>: compaction keeps every version until the inference"
          + " service's retention tombstones an old candidate (never the champion or a pinned"
          + " version)."),
  /** Records: {@link lenet.contract.wire.ModelControl}. */
  MODEL_CONTROL(
      "model.control",
      1,
      Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact"),
      "Which model serves, fleet-wide: promotions and rejections per candidate, the pin"
          + " (rollback). Compacted: the latest record per key is the state every inference replica"
          + " starts from."),
  /** Partitions: see {@link #partitionsKey()}. */
  DIGITS_IMAGES(
      "digits.images",
      3,
      Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(Topic.LARGE_RECORD)),
      "Image events to score. Partitions bound how many inference replicas share the work"
          + " (setting topics.digits-images.partitions, 3 by default)."),
  DIGITS_PREDICTIONS(
      "digits.predictions",
      3,
      Map.of(),
      "One prediction per image event, written in the same transaction as the event's offset;"
          + " key = the event's id."),
  DIGITS_IMAGES_DLQ(
      "digits.images.dlq",
      1,
      Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(Topic.LARGE_RECORD)),
      "Image events that could not be scored, unchanged, with a header saying why."),
  /** Records: {@link lenet.contract.wire.Label}. */
  DIGITS_LABELS(
      "digits.labels",
      3,
      Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact"),
      "The true digit of a scored image, key = the image event's id: from POST /api/feedback, the"
          + " inference page or any producer. Compacted: the newest label of each id is kept."),
  /** Records: {@link lenet.contract.wire.Outcome}. */
  DIGITS_OUTCOMES(
      "digits.outcomes",
      3,
      Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact"),
      "A label joined with its prediction, key = the image event's id: what was predicted, what"
          + " it was, by which model version; exactly once per label. Live accuracy is counted from"
          + " it."),
  /** Records: {@link lenet.contract.wire.LiveAccuracy}. */
  MODEL_ACCURACY(
      "model.accuracy",
      1,
      Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact"),
      "Live accuracy per model version, key = the version: labelled outcomes, correct ones, the"
          + " confusion matrix and confidence, kept by the outcomes join (the newest label of each"
          + " image counts once).");

  /**
   * 4 MiB: a checkpoint (~253 KB), a dataset batch (~785 KB at 250 images) or a large PNG fit with
   * room. The topics take records of this size and {@link KafkaClients} sizes its clients to it.
   */
  public static final int LARGE_RECORD = KafkaClients.LARGE_RECORD;

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
  private final String purpose;

  Topic(String defaultName, int partitions, Map<String, String> configs, String purpose) {
    this.defaultName = defaultName;
    this.partitions = partitions;
    this.configs = configs;
    this.purpose = purpose;
  }

  /** What the topic holds, in a sentence (also the comment of its deployment copies). */
  public String purpose() {
    return purpose;
  }

  public String defaultName() {
    return defaultName;
  }

  /** The configuration key that renames the topic, e.g. {@code topics.digits-images}. */
  public String configKey() {
    return "topics." + defaultName.replace('.', '-');
  }

  /** Partitions when no setting says otherwise. */
  public int partitions() {
    return partitions;
  }

  /**
   * The setting that changes the partition count, for the topic whose partitions only bound
   * parallelism ({@link #DIGITS_IMAGES}); the others keep theirs (one partition keeps their order).
   */
  public Optional<String> partitionsKey() {
    return this == DIGITS_IMAGES ? Optional.of(configKey() + ".partitions") : Optional.empty();
  }

  /** The topic's own settings, whatever the cluster. */
  public Map<String, String> configs() {
    return configs;
  }

  /**
   * Every setting the topic is created with on a cluster that keeps {@code replicationFactor}
   * copies: its own plus {@code min.insync.replicas} ({@link #minInsyncReplicas}), sorted by key.
   */
  public Map<String, String> configs(int replicationFactor) {
    Map<String, String> all = new TreeMap<>(configs);
    all.put(
        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG,
        String.valueOf(minInsyncReplicas(replicationFactor)));
    return all;
  }

  /**
   * Copies of every partition on a cluster of {@code brokers}: one per broker up to three. Three
   * survive the loss of one broker with two left to acknowledge writes.
   */
  public static int replicationFactor(int brokers) {
    return Math.max(1, Math.min(3, brokers));
  }

  /**
   * Replicas that hold a write before a producer with {@code acks=all} (every producer of the
   * pipeline) is answered: two of three, so an acknowledged write survives the loss of any one
   * broker and writes go on while one is down; one where there are fewer copies.
   */
  public static int minInsyncReplicas(int replicationFactor) {
    return replicationFactor >= 3 ? 2 : 1;
  }

  /** The deployments' cluster (Strimzi's node pool, docker-compose.yml): three brokers. */
  public static final int DEPLOYED_BROKERS = 3;
}
