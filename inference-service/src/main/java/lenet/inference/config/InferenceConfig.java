package lenet.inference.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** How the service picks, runs and feeds its model; every key is {@code inference.*}. */
@ConfigMapping(prefix = "inference")
public interface InferenceConfig {

  /**
   * Which checkpoint serves: {@code latest} (each valid new one) or {@code best} (only when dev
   * accuracy >= serving).
   */
  @WithDefault("latest")
  Policy policy();

  /**
   * Where the model runs: {@code auto} (a GPU when PyTorch sees one), {@code cpu} or {@code gpu}.
   */
  @WithDefault("auto")
  DeviceChoice device();

  /**
   * Predictors per loaded model, i.e. how many forward passes run at once (one per core is a good
   * start).
   */
  @WithDefault("2")
  int predictors();

  /**
   * PyTorch intra-op threads per forward pass (ai.djl.pytorch.num_threads); a -D system property
   * wins.
   */
  @WithDefault("1")
  int torchThreads();

  /**
   * Largest image event (Kafka value) or JSON/image HTTP body in bytes; bigger ones are refused as
   * TOO_LARGE.
   */
  @WithDefault("2097152")
  int maxImageBytes();

  /**
   * Largest decoded image in pixels (width x height), so a tiny PNG cannot expand into gigabytes.
   */
  @WithDefault("16777216")
  long maxImagePixels();

  /** Most images in one Open Inference Protocol request. */
  @WithDefault("256")
  int maxBatch();

  /**
   * Forward passes each predictor of a new model runs before it serves, so no request pays
   * PyTorch's warm-up.
   */
  @WithDefault("3")
  int warmUpPasses();

  /** Images per warm-up pass (a typical Kafka micro-batch). */
  @WithDefault("64")
  int warmUpBatch();

  /**
   * Checkpoints whose parameters stay in memory for rollback (~253 KB each); older ones are listed
   * only.
   */
  @WithDefault("64")
  int keepVersions();

  /** How long {@code POST /api/models/{v}/activate} waits for the model to load and warm up. */
  @WithDefault("60s")
  Duration activateTimeout();

  /** Promotion policy of new checkpoints. */
  enum Policy {
    LATEST,
    BEST
  }

  /** Device selection. */
  enum DeviceChoice {
    AUTO,
    CPU,
    GPU
  }
}
