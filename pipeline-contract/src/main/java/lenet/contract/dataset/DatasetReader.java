package lenet.contract.dataset;

import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.DatasetBatch;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.DatasetManifest;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads datasets back from Kafka: the latest manifest, and exactly the batches one manifest names,
 * verified against its counts and checksum. Uses an assigned (group-less) consumer, so reading
 * never disturbs anyone's offsets.
 */
public final class DatasetReader {

  /** One split in memory: NCHW float32 pixels in [0,1] and class-index labels. */
  public record SplitData(Split split, float[] pixels, byte[] labels) {
    public int count() {
      return labels.length;
    }
  }

  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final Consumer<String, byte[]> consumer;
  private final Topics topics;

  public DatasetReader(Consumer<String, byte[]> consumer, Topics topics) {
    this.consumer = consumer;
    this.topics = topics;
  }

  /** The last manifest published for {@code dataset}, if any. */
  public Optional<DatasetManifest> latestManifest(String dataset) {
    TopicPartition tp = new TopicPartition(topics.name(Topic.MNIST_MANIFESTS), 0);
    consumer.assign(List.of(tp));
    consumer.seekToBeginning(List.of(tp));
    long end = consumer.endOffsets(List.of(tp)).get(tp);
    DatasetManifest latest = null;
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (consumer.position(tp) < end) {
      for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
        if (dataset.equals(r.key()) && r.value() != null) {
          latest = DatasetManifest.decode(r.value());
        }
      }
      checkDeadline(deadline, "the manifest topic");
    }
    return Optional.ofNullable(latest);
  }

  /**
   * Reads one split of the copy {@code manifest} names.
   *
   * @throws IllegalStateException when the copy on Kafka is incomplete or does not match its
   *     checksum
   */
  public SplitData read(DatasetManifest manifest, Split split) {
    DatasetManifest.SplitInfo info = manifest.split(split);
    float[] pixels = new float[info.images() * DatasetBatch.IMAGE_SIZE];
    byte[] labels = new byte[info.images()];
    if (info.batches() == 0) {
      return new SplitData(split, pixels, labels);
    }
    TopicPartition tp = new TopicPartition(info.topic(), info.partition());
    consumer.assign(List.of(tp));
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(List.of(tp));
    if (begin.get(tp) > info.firstOffset()) {
      throw new IllegalStateException(
          "Dataset "
              + manifest.datasetId()
              + " "
              + split
              + " starts at offset "
              + info.firstOffset()
              + " but "
              + info.topic()
              + " now begins at "
              + begin.get(tp)
              + ": re-ingest it");
    }
    consumer.seek(tp, info.firstOffset());
    String prefix = manifest.datasetId() + "/" + split.name().toLowerCase() + "/";
    MessageDigest sha = DatasetWriter.sha256();
    int batches = 0;
    int images = 0;
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (consumer.position(tp) <= info.lastOffset()) {
      for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
        if (r.offset() > info.lastOffset() || r.key() == null || !r.key().startsWith(prefix)) {
          continue;
        }
        DatasetBatch batch = DatasetBatch.decode(r.value());
        if (batch.batchIndex() != batches || batch.firstIndex() != images) {
          throw new IllegalStateException(
              "Dataset "
                  + manifest.datasetId()
                  + " "
                  + split
                  + ": expected batch "
                  + batches
                  + " at image "
                  + images
                  + ", found batch "
                  + batch.batchIndex()
                  + " at offset "
                  + r.offset());
        }
        sha.update(r.value());
        System.arraycopy(
            batch.pixels(), 0, pixels, images * DatasetBatch.IMAGE_SIZE, batch.pixels().length);
        System.arraycopy(batch.labels(), 0, labels, images, batch.count());
        images += batch.count();
        batches++;
      }
      checkDeadline(deadline, info.topic());
    }
    String digest = HexFormat.of().formatHex(sha.digest());
    if (batches != info.batches() || images != info.images() || !digest.equals(info.sha256())) {
      throw new IllegalStateException(
          "Dataset "
              + manifest.datasetId()
              + " "
              + split
              + " on Kafka is incomplete or altered: read "
              + batches
              + "/"
              + info.batches()
              + " batches, "
              + images
              + "/"
              + info.images()
              + " images, checksum "
              + (digest.equals(info.sha256()) ? "ok" : "mismatch"));
    }
    return new SplitData(split, pixels, labels);
  }

  private static void checkDeadline(long deadline, String what) {
    if (System.nanoTime() > deadline) {
      throw new IllegalStateException(
          "Timed out reading " + what + " after " + TIMEOUT.toSeconds() + " s");
    }
  }
}
