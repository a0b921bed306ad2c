package lenet.inference.model;

import java.util.Optional;
import lenet.contract.dataset.DatasetReader;
import lenet.contract.dataset.DatasetWriter;
import lenet.contract.topics.Topics;
import lenet.contract.wire.DatasetBatch;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.DatasetManifest;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.jboss.logging.Logger;

/**
 * The held-out images the gate scores candidates on: one split (dev by default) of the newest
 * complete dataset copy on Kafka, read with the same verified reader the trainer uses. The copy
 * stays in memory until a newer one is published.
 */
final class GateSet {

  private static final Logger LOG = Logger.getLogger(GateSet.class);

  /** Images (rows of 784 values in [0,1]) and their labels. */
  record Data(String datasetId, Split split, float[][] rows, byte[] labels) {
    int count() {
      return labels.length;
    }
  }

  private final KafkaConnection kafka;
  private final Topics topics;
  private final Split split;
  private final int maxImages;
  private Data cached;

  /**
   * @param maxImages the first N images of the split only; 0 for all
   */
  GateSet(KafkaConnection kafka, Topics topics, Split split, int maxImages) {
    this.kafka = kafka;
    this.topics = topics;
    this.split = split;
    this.maxImages = maxImages;
  }

  /** The gate images, or empty while no complete dataset is on Kafka. */
  synchronized Optional<Data> load() {
    try (KafkaConsumer<String, byte[]> consumer = KafkaClients.reader(kafka)) {
      DatasetReader reader = new DatasetReader(consumer, topics);
      Optional<DatasetManifest> manifest = reader.latestManifest(DatasetWriter.DATASET_NAME);
      if (manifest.isEmpty()) {
        return Optional.empty();
      }
      DatasetManifest m = manifest.get();
      if (cached != null && cached.datasetId().equals(m.datasetId())) {
        return Optional.of(cached);
      }
      long t0 = System.nanoTime();
      DatasetReader.SplitData data = reader.read(m, split);
      int n = maxImages > 0 ? Math.min(maxImages, data.count()) : data.count();
      float[][] rows = new float[n][DatasetBatch.IMAGE_SIZE];
      byte[] labels = new byte[n];
      for (int i = 0; i < n; i++) {
        System.arraycopy(
            data.pixels(), i * DatasetBatch.IMAGE_SIZE, rows[i], 0, DatasetBatch.IMAGE_SIZE);
        labels[i] = data.labels()[i];
      }
      cached = new Data(m.datasetId(), split, rows, labels);
      LOG.infof(
          "Gate set: %,d %s images of dataset %s, read from Kafka in %d ms",
          n, split.name().toLowerCase(), m.datasetId(), (System.nanoTime() - t0) / 1_000_000);
      return Optional.of(cached);
    }
  }
}
