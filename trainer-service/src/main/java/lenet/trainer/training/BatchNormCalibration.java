package lenet.trainer.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import lenet.contract.dataset.DatasetReader.SplitData;
import lenet.contract.wire.DatasetBatch;
import lenet.model.HostBuffers;

/**
 * Sets every BatchNorm's running mean and variance of a LeNet-5 block to the exact statistics of
 * its input over a sample of training images under the block's current weights ("precise
 * BatchNorm"), layer by layer so that each BatchNorm sees inputs normalized by the ones before it.
 *
 * <p>Why: evaluation normalizes with the running statistics, which training keeps as a moving
 * average (momentum 0.99, Keras's) of the batches' statistics. That average trails the weights by
 * about a hundred steps and starts from mean 0 / variance 1: after the 38 steps of a 2-epoch run on
 * 2,400 images, 68% of it is still the start; at a learning rate of 1e-2 it lags weights that move
 * fast. Either way the network evaluated (and served) is not the one trained. Costs one forward
 * pass over the sample in inference mode, no gradients.
 */
final class BatchNormCalibration {

  private static final int CHUNK = 256;

  private BatchNormCalibration() {}

  /**
   * @param lenet5 an initialized LeNet-5 block; its BatchNorms' running statistics are replaced
   * @param images how many training images to sample (all of the split when it has fewer)
   * @param random draws the sample and its augmentation
   * @param buffers where the sample is written: one buffer, taken and handed back, so that a run's
   *     calibrations leave no direct buffer per epoch for a garbage collection to free
   */
  static void calibrate(
      Block lenet5,
      NDManager manager,
      SplitData train,
      int images,
      Augmentation augmentation,
      Random random,
      HostBuffers buffers) {
    int n = Math.min(images, train.count());
    if (n == 0) {
      return;
    }
    ByteBuffer pixels = buffers.take(n * DatasetBatch.IMAGE_SIZE);
    try (NDManager scratch = manager.newSubManager()) {
      List<NDArray> chunks = sample(scratch, pixels, train, n, augmentation, random);
      ParameterStore parameters = new ParameterStore(scratch, false);
      for (Block layer : lenet5.getChildren().values()) {
        if (layer instanceof BatchNorm) {
          setStatistics(layer, chunks);
        }
        List<NDArray> next = new ArrayList<>(chunks.size());
        for (NDArray chunk : chunks) {
          next.add(layer.forward(parameters, new NDList(chunk), false).singletonOrThrow());
          chunk.close();
        }
        chunks = next;
      }
    } finally {
      buffers.give(pixels); // the chunks that read it are closed with the scratch manager
    }
  }

  /** Mean and (biased) variance per channel, axis 1, over every other axis of every chunk. */
  private static void setStatistics(Block batchNorm, List<NDArray> chunks) {
    int[] axes = chunks.get(0).getShape().dimension() == 4 ? new int[] {0, 2, 3} : new int[] {0};
    long count = 0;
    NDArray sum = null;
    for (NDArray chunk : chunks) {
      count += chunk.getShape().size() / chunk.getShape().get(1);
      NDArray s = chunk.sum(axes);
      sum = sum == null ? s : sum.addi(s);
    }
    NDArray mean = sum.divi(count);
    Shape broadcast = broadcastShape(chunks.get(0).getShape());
    NDArray squares = null;
    try (NDArray centre = mean.reshape(broadcast)) {
      for (NDArray chunk : chunks) {
        try (NDArray d = chunk.sub(centre)) {
          NDArray s = d.muli(d).sum(axes);
          squares = squares == null ? s : squares.addi(s);
        }
      }
    }
    NDArray variance = squares.divi(count);
    batchNorm.getParameters().get("runningMean").getArray().set(mean.toFloatArray());
    batchNorm.getParameters().get("runningVar").getArray().set(variance.toFloatArray());
    mean.close();
    variance.close();
  }

  private static Shape broadcastShape(Shape input) {
    long[] dims = new long[input.dimension()];
    java.util.Arrays.fill(dims, 1);
    dims[1] = input.get(1);
    return new Shape(dims);
  }

  /**
   * {@code n} distinct training images drawn at random, augmented as training does, written into
   * {@code pixels} and made into chunks that share its memory (on the CPU).
   */
  private static List<NDArray> sample(
      NDManager manager,
      ByteBuffer pixels,
      SplitData train,
      int n,
      Augmentation augmentation,
      Random random) {
    int[] order = Training.permutation(train.count(), random); // the first n are the sample
    float[] image = new float[DatasetBatch.IMAGE_SIZE];
    FloatBuffer out = pixels.asFloatBuffer();
    for (int i = 0; i < n; i++) {
      augmentation.apply(train.pixels(), order[i] * DatasetBatch.IMAGE_SIZE, image, 0, random);
      out.put(image);
    }
    List<NDArray> chunks = new ArrayList<>();
    int bytes = DatasetBatch.IMAGE_SIZE * Float.BYTES;
    for (int start = 0; start < n; start += CHUNK) {
      int size = Math.min(CHUNK, n - start);
      ByteBuffer chunk = pixels.slice(start * bytes, size * bytes).order(ByteOrder.nativeOrder());
      chunks.add(manager.create(chunk, new Shape(size, 1, 28, 28), DataType.FLOAT32));
    }
    return chunks;
  }
}
