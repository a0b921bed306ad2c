package lenet.contract.dataset;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.DatasetBatch;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.DatasetManifest;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Streams one complete copy of MNIST to Kafka with the tutorial's preprocessing: uint8 -> float32 /
 * 255, one channel (NCHW), labels as class indices; train/dev split as Keras {@code
 * validation_split} does (the last fraction of the training file is dev). The manifest is published
 * only after every batch is acknowledged, so a reader never sees a partial copy.
 */
public final class DatasetWriter {

  /**
   * Called every 20 batches sent and once a split is acknowledged: images handed to Kafka so far,
   * of its size.
   */
  public interface Progress {
    void batchWritten(Split split, int imagesDone, int imagesTotal);
  }

  public static final String DATASET_NAME = "mnist";

  private final Producer<String, byte[]> producer;
  private final Topics topics;

  public DatasetWriter(Producer<String, byte[]> producer, Topics topics) {
    this.producer = producer;
    this.topics = topics;
  }

  /**
   * Splits train into train/dev (the last {@code validationSplit} of it is dev) and publishes all
   * three splits.
   */
  public DatasetManifest publish(
      String datasetId,
      MnistSet train,
      MnistSet test,
      double validationSplit,
      int batchSize,
      Progress progress)
      throws InterruptedException {
    int devCount = (int) Math.round(train.count() * validationSplit);
    int trainCount = train.count() - devCount;
    Map<String, DatasetManifest.SplitInfo> splits = new LinkedHashMap<>();
    splits.put(
        "train",
        write(
            datasetId, Split.TRAIN, Topic.MNIST_TRAIN, train, 0, trainCount, batchSize, progress));
    splits.put(
        "dev",
        write(
            datasetId,
            Split.DEV,
            Topic.MNIST_DEV,
            train,
            trainCount,
            devCount,
            batchSize,
            progress));
    splits.put(
        "test",
        write(datasetId, Split.TEST, Topic.MNIST_TEST, test, 0, test.count(), batchSize, progress));
    DatasetManifest manifest =
        new DatasetManifest(DATASET_NAME, datasetId, System.currentTimeMillis(), batchSize, splits);
    await(
        producer.send(
            new ProducerRecord<>(
                topics.name(Topic.MNIST_MANIFESTS), DATASET_NAME, manifest.encode())));
    return manifest;
  }

  private DatasetManifest.SplitInfo write(
      String datasetId,
      Split split,
      Topic topic,
      MnistSet source,
      int from,
      int count,
      int batchSize,
      Progress progress)
      throws InterruptedException {
    MessageDigest sha = sha256();
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    int[] labelCounts = new int[10];
    String topicName = topics.name(topic);
    int batches = (count + batchSize - 1) / batchSize;
    for (int b = 0; b < batches; b++) {
      int start = b * batchSize;
      int n = Math.min(batchSize, count - start);
      byte[] labels = new byte[n];
      float[] pixels = new float[n * DatasetBatch.IMAGE_SIZE];
      for (int i = 0; i < n; i++) {
        int src = from + start + i;
        labels[i] = source.labels()[src];
        labelCounts[labels[i]]++;
        int base = src * MnistSet.IMAGE_BYTES;
        int dst = i * DatasetBatch.IMAGE_SIZE;
        for (int p = 0; p < MnistSet.IMAGE_BYTES; p++) {
          pixels[dst + p] = (source.images()[base + p] & 0xFF) / 255f;
        }
      }
      byte[] value = new DatasetBatch(split, b, start, labels, pixels).encode();
      sha.update(value);
      sent.add(producer.send(new ProducerRecord<>(topicName, 0, key(datasetId, split, b), value)));
      if (progress != null && b % 20 == 19 && b < batches - 1) {
        progress.batchWritten(split, start + n, count);
      }
    }
    producer.flush();
    long first = batches == 0 ? -1 : await(sent.get(0)).offset();
    long last = batches == 0 ? -1 : await(sent.get(batches - 1)).offset();
    for (Future<RecordMetadata> f : sent) {
      await(f);
    }
    if (progress != null) {
      progress.batchWritten(split, count, count);
    }
    return new DatasetManifest.SplitInfo(
        topicName,
        0,
        first,
        last,
        count,
        batches,
        HexFormat.of().formatHex(sha.digest()),
        java.util.Arrays.stream(labelCounts).boxed().toList());
  }

  /** Record key of a batch: the reader keeps only the records of the copy its manifest names. */
  public static String key(String datasetId, Split split, int batch) {
    return datasetId + "/" + split.name().toLowerCase() + "/" + batch;
  }

  private static RecordMetadata await(Future<RecordMetadata> f) throws InterruptedException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "Kafka refused a dataset record: " + e.getCause().getMessage(), e.getCause());
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
