package lenet.trainer.runs;

import jakarta.enterprise.context.ApplicationScoped;
import java.lang.management.ManagementFactory;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;
import lenet.trainer.TrainerConfig;
import lenet.trainer.training.RunSpec;

/**
 * What a run may ask of this trainer's memory, checked when its command arrives (so that a command
 * that would exhaust the process is refused with a reason instead of crashing the trainer each time
 * it is delivered again). A training step holds every layer's activations and their gradients for
 * the whole batch in native memory: {@link #BYTES_PER_IMAGE} per image, measured on LeNet-5 (see
 * BENCHMARKS.md, "Memory per training image").
 */
@ApplicationScoped
public class RunLimits {

  /**
   * Native memory per image of a batch while training: LeNet-5's activations (about 23,500 floats
   * an image, 94 KB), their gradients, BatchNorm's saved statistics and the host copy, with room to
   * spare.
   */
  public static final long BYTES_PER_IMAGE = 256 * 1024;

  private final long budget;

  RunLimits(TrainerConfig config) {
    this.budget = config.maxBatchMemory().orElseGet(RunLimits::halfOfMemory);
  }

  /** The largest batch this trainer takes. */
  public int maxBatchSize() {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, budget / BYTES_PER_IMAGE));
  }

  /**
   * @throws WireFormatException (INVALID_VALUE) naming the limit a run exceeds
   */
  public void check(RunSpec spec) {
    if (spec.batchSize() > maxBatchSize()) {
      throw new WireFormatException(
          Reason.INVALID_VALUE,
          String.format(
              "'batchSize' %d needs about %d MB while training (%d KB an image); this trainer takes"
                  + " at most %d (trainer.max-batch-memory, %d MB)",
              spec.batchSize(),
              spec.batchSize() * BYTES_PER_IMAGE >> 20,
              BYTES_PER_IMAGE >> 10,
              maxBatchSize(),
              budget >> 20));
    }
  }

  /** Half the memory the process may use (a container's limit, else the machine's). */
  private static long halfOfMemory() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    long total =
        os instanceof com.sun.management.OperatingSystemMXBean sun
            ? sun.getTotalMemorySize()
            : 4L << 30;
    return total / 2;
  }
}
