package lenet.trainer.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.loss.Loss;

/**
 * Softmax cross-entropy against a smoothed target: {@code 1 - epsilon} on the label plus {@code
 * epsilon} spread evenly over the classes, i.e. {@code -(1 - epsilon) log p[label] - epsilon
 * mean(log p)}, averaged over the batch. At {@code epsilon = 0} it is DJL's {@code
 * SoftmaxCrossEntropyLoss} on logits and sparse labels.
 */
final class SmoothedCrossEntropy extends Loss {

  private final float epsilon;

  SmoothedCrossEntropy(double epsilon) {
    super("SoftmaxCrossEntropyLoss");
    this.epsilon = (float) epsilon;
  }

  @Override
  public NDArray evaluate(NDList labels, NDList predictions) {
    NDArray logP = predictions.singletonOrThrow().logSoftmax(1);
    NDArray label = labels.singletonOrThrow();
    NDArray picked =
        logP.get(new NDIndex().addAllDim().addPickDim(label)).reshape(label.getShape());
    NDArray spread = logP.mean(new int[] {1});
    return picked.mul(1 - epsilon).add(spread.mul(epsilon)).neg().mean();
  }
}
