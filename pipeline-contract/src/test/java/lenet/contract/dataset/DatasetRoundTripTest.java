package lenet.contract.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Random;
import lenet.contract.topics.Topics;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.DatasetManifest;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;

/**
 * The dataset's two halves agree: what {@link DatasetWriter} streams through the real broker,
 * {@link DatasetReader} reads back exactly (split, preprocessing, order, checksum).
 */
class DatasetRoundTripTest {

  /** {@code count} images of seeded noise with labels 0..9 in turn, as MNIST files hold them. */
  static MnistSet images(String name, int count, long seed) {
    byte[] pixels = new byte[count * MnistSet.IMAGE_BYTES];
    new Random(seed).nextBytes(pixels);
    byte[] labels = new byte[count];
    for (int i = 0; i < count; i++) {
      labels[i] = (byte) (i % 10);
    }
    return new MnistSet(name, pixels, labels);
  }

  @Test
  void aDatasetStreamsToKafkaAndReadsBackExactly() throws Exception {
    String bootstrap = SharedKafka.bootstrapServers();
    Topics topics = Topics.defaults();
    topics.ensureAll(KafkaConnection.to(bootstrap));
    MnistSet train = images("train", 1000, 1);
    MnistSet test = images("test", 300, 2);
    DatasetManifest manifest;
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.writer(KafkaConnection.to(bootstrap), Map.of())) {
      manifest =
          new DatasetWriter(producer, topics).publish("subset-1", train, test, 0.2, 128, null);
    }
    assertThat(manifest.split(Split.TRAIN).images()).isEqualTo(800);
    assertThat(manifest.split(Split.DEV).images()).isEqualTo(200);
    assertThat(manifest.split(Split.TEST).images()).isEqualTo(300);
    assertThat(manifest.split(Split.TRAIN).batches()).isEqualTo(7);

    try (KafkaConsumer<String, byte[]> consumer =
        KafkaClients.reader(KafkaConnection.to(bootstrap))) {
      DatasetReader reader = new DatasetReader(consumer, topics);
      assertThat(reader.latestManifest("mnist")).contains(manifest);
      DatasetReader.SplitData dev = reader.read(manifest, Split.DEV);
      assertThat(dev.count()).isEqualTo(200);
      for (int i = 0; i < 200; i++) {
        assertThat(dev.labels()[i]).isEqualTo(train.labels()[800 + i]);
        for (int p = 0; p < 784; p += 37) {
          assertThat(dev.pixels()[i * 784 + p]).isEqualTo(train.pixel(800 + i, p) / 255f);
        }
      }
      assertThat(reader.read(manifest, Split.TEST).labels()).containsExactly(test.labels());
    }
  }
}
