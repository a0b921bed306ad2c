package lenet.trainer.training;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW's decoupled weight decay, applied by the training loop before each Adam step: every
 * trainable parameter is multiplied in place by {@code 1 - lr * decay} at the step's learning rate,
 * as PyTorch's {@code AdamW} does before its update. DJL's own {@code AdamW} computes the same but
 * converts every parameter to another type and back on each step: 44 extra copies a step, 12% of a
 * step's libtorch time on one thread (BENCHMARKS.md, "Where the time goes").
 */
final class DecoupledWeightDecay {

  private final List<NDArray> weights = new ArrayList<>();
  private final double decay;
  private final Tracker schedule;

  /**
   * @param schedule the run's learning rate by step ({@code Training.schedule})
   */
  DecoupledWeightDecay(Block block, double decay, Tracker schedule) {
    this.decay = decay;
    this.schedule = schedule;
    for (Pair<String, Parameter> p : block.getParameters()) {
      if (p.getValue().requiresGradient()) {
        weights.add(p.getValue().getArray());
      }
    }
  }

  /** Shrinks the weights for the run's step {@code step} (0 = the first), at its learning rate. */
  void apply(int step) {
    float keep = (float) (1 - schedule.getNewValue(step) * decay);
    for (NDArray w : weights) {
      w.muli(keep);
    }
  }
}
