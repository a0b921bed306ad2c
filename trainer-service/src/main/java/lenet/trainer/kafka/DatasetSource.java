package lenet.trainer.kafka;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Optional;
import lenet.contract.dataset.DatasetReader;
import lenet.contract.dataset.DatasetWriter;
import lenet.contract.topics.Topics;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.DatasetManifest;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import lenet.trainer.training.TrainingData;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * Reads the newest complete dataset copy from Kafka (the one its manifest names), waiting for
 * ingest-service when there is none yet. The last copy read stays in memory, so back-to-back runs
 * do not read it again.
 */
@ApplicationScoped
public class DatasetSource {

  private static final Logger LOG = Logger.getLogger(DatasetSource.class);

  private final KafkaConnection kafka;
  private final Topics topics;
  private TrainingData cached;

  DatasetSource(KafkaConnection kafka, Config config) {
    this.kafka = kafka;
    this.topics = Topics.from(config);
  }

  public synchronized TrainingData load(Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    try (KafkaConsumer<String, byte[]> consumer = KafkaClients.reader(kafka)) {
      DatasetReader reader = new DatasetReader(consumer, topics);
      Optional<DatasetManifest> manifest = reader.latestManifest(DatasetWriter.DATASET_NAME);
      long lastLog = 0;
      while (manifest.isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "No complete MNIST dataset on Kafka after "
                  + wait.toSeconds()
                  + " s: start ingest-service (it ingests at start-up) or POST /api/datasets/mnist/ingest");
        }
        if (System.nanoTime() - lastLog > 30e9) {
          LOG.info("Waiting for ingest-service to publish a complete MNIST dataset on Kafka...");
          lastLog = System.nanoTime();
        }
        sleep();
        manifest = reader.latestManifest(DatasetWriter.DATASET_NAME);
      }
      DatasetManifest m = manifest.get();
      if (cached != null && cached.datasetId().equals(m.datasetId())) {
        return cached;
      }
      long t0 = System.nanoTime();
      TrainingData data =
          new TrainingData(
              m.datasetId(),
              reader.read(m, Split.TRAIN),
              reader.read(m, Split.DEV),
              reader.read(m, Split.TEST));
      LOG.infof(
          "Read dataset %s from Kafka in %.1f s: train %,d, dev %,d, test %,d images",
          m.datasetId(),
          (System.nanoTime() - t0) / 1e9,
          data.train().count(),
          data.dev().count(),
          data.test().count());
      cached = data;
      return data;
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a dataset", e);
    }
  }
}
