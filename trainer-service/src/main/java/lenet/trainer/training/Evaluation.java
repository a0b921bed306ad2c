package lenet.trainer.training;

import ai.djl.Device;
import ai.djl.nn.Block;
import lenet.contract.dataset.DatasetReader.SplitData;
import lenet.contract.wire.DatasetBatch;
import lenet.contract.wire.Prediction;
import lenet.model.LeNet5Inference;

/**
 * Loss (cross-entropy) and accuracy (a fraction) over a split: of a training epoch's batches as
 * they were trained, or of a LeNet-5 block evaluated on dev, test or held-out feedback.
 */
public record Evaluation(double loss, double accuracy) {

  private static final int BATCH = 1000;

  /**
   * An initialized LeNet-5 block in inference mode (BatchNorm on its running statistics), computed
   * by the network inference serves ({@link LeNet5Inference}: the same function, BatchNorms
   * folded), compiled from the block's parameters as they stand. NaN for an empty split.
   */
  public static Evaluation of(Block lenet5, Device device, SplitData split) {
    int n = split.count();
    if (n == 0) {
      return new Evaluation(Double.NaN, Double.NaN);
    }
    double lossSum = 0;
    long correct = 0;
    try (LeNet5Inference network = LeNet5Inference.compile(lenet5, device)) {
      for (int start = 0; start < n; start += BATCH) {
        int size = Math.min(BATCH, n - start);
        float[][] rows = new float[size][DatasetBatch.IMAGE_SIZE];
        for (int i = 0; i < size; i++) {
          System.arraycopy(
              split.pixels(), (start + i) * DatasetBatch.IMAGE_SIZE, rows[i], 0, rows[i].length);
        }
        float[][] p = network.probabilities(rows);
        for (int i = 0; i < size; i++) {
          int label = split.labels()[start + i];
          lossSum -= Math.log(Math.max(p[i][label], Float.MIN_NORMAL));
          correct += Prediction.argMax(p[i]) == label ? 1 : 0;
        }
      }
    }
    return new Evaluation(lossSum / n, (double) correct / n);
  }

  /** The run's held-out feedback images; null when it holds none out. */
  static Evaluation ofFeedback(Block lenet5, Device device, TrainingData data) {
    return data.feedback() != null && data.feedback().count() > 0
        ? of(lenet5, device, data.feedback())
        : null;
  }
}
