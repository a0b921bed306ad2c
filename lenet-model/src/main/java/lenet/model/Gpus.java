package lenet.model;

import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import java.util.Optional;

/**
 * Whether DJL's PyTorch engine can compute on a GPU in this process, and if not, why not, in words
 * for a log line, an error or a skipped test.
 */
public final class Gpus {

  private Gpus() {}

  /** The GPUs DJL's PyTorch engine sees (what {@code device=auto} and {@code gpu} go by). */
  public static int count() {
    return Engine.getEngine("PyTorch").getGpuCount();
  }

  /**
   * Why the engine sees no GPU; empty when it sees one. DJL counts devices through {@code
   * libcudart} only when libtorch itself reports CUDA, so the two causes are told apart.
   */
  public static Optional<String> absence() {
    Engine engine = Engine.getEngine("PyTorch");
    if (engine.getGpuCount() > 0) {
      return Optional.empty();
    }
    if (engine.hasCapability(StandardCapabilities.CUDA)) {
      return Optional.of(
          "DJL's PyTorch engine sees 0 GPUs although libtorch "
              + engine.getVersion()
              + " reports CUDA: DJL counts devices through libcudart, which is not on the library"
              + " path (the GPU image links it: trainer-service/src/main/docker/Dockerfile.gpu)");
    }
    return Optional.of(
        "DJL's PyTorch engine sees 0 GPUs (libtorch "
            + engine.getVersion()
            + " without CUDA: a CPU libtorch build, or no CUDA device or driver)");
  }
}
