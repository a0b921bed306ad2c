package lenet.trainer.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import lenet.model.LeNet5;
import lenet.model.ModelIO;

/**
 * An exponential moving average of a LeNet-5 block's parameters, BatchNorm statistics included,
 * kept as a LeNet-5 block of its own on the trained block's device (so it is evaluated and saved
 * like any block). {@link #update} after each optimizer step: {@code avg = d avg + (1 - d) p} with
 * {@code d = min(decay, (1 + t) / (10 + t))} at step {@code t}, in place, in native memory.
 */
final class WeightAverage {

  private final Block average;
  private final List<NDArray> raw = new ArrayList<>();
  private final List<NDArray> averaged = new ArrayList<>();
  private final double decay;
  private long updates;

  /**
   * @param trained an initialized LeNet-5 block; the average starts as a copy of it
   * @param manager where the average's arrays live (closed with it)
   */
  WeightAverage(Block trained, NDManager manager, double decay) {
    this.decay = decay;
    this.average = LeNet5.newBlock();
    ModelIO.loadParameters(average, manager, ModelIO.parameters(trained));
    for (Pair<String, Parameter> p : trained.getParameters()) {
      raw.add(p.getValue().getArray());
    }
    for (Pair<String, Parameter> p : average.getParameters()) {
      averaged.add(p.getValue().getArray());
    }
  }

  /** Folds the trained block's current parameters into the average. */
  void update() {
    updates++;
    float d = (float) Math.min(decay, (1.0 + updates) / (10.0 + updates));
    for (int i = 0; i < raw.size(); i++) {
      NDArray a = averaged.get(i);
      try (NDArray step = raw.get(i).sub(a)) {
        a.addi(step.muli(1 - d));
      }
    }
  }

  /** The averaged block: evaluate it, or save it with {@link ModelIO#parameters}. */
  Block block() {
    return average;
  }
}
