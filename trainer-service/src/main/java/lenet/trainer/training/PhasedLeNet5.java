package lenet.trainer.training;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;
import lenet.model.Conv1Phases;
import lenet.model.LeNet5;

/**
 * The {@link LeNet5} block it wraps, computed for training with its first four layers (the 5x5
 * convolution, its BatchNorm, ReLU and average pooling) in the phase layout of {@link Conv1Phases}:
 * a 3x3 convolution of 4 to 24 channels whose kernel is gathered from the 5x5 weights each step (so
 * gradients reach them), the BatchNorm over the four phase groups as one batch of 4N (the same
 * per-channel statistics over the same 28x28 positions), the pooling as the mean of the groups. The
 * same function and gradients as the wrapped block, to float rounding; the parameters are the
 * wrapped block's (its only child), which is what is evaluated, averaged and checkpointed.
 *
 * <p>Inputs are images in the phase layout, [N, 4, 16, 16] ({@link Conv1Phases#spaceToDepth}).
 */
final class PhasedLeNet5 extends AbstractBlock {

  /** One image in the phase layout. */
  static final Shape INPUT_SHAPE = new Shape(1, 4, Conv1Phases.SIDE, Conv1Phases.SIDE);

  /** The wrapped block's layers computed here: conv2d, batch_normalization, ReLU, pooling. */
  private static final int PHASED_LAYERS = 4;

  private static final Shape ONE = new Shape(1, 1);
  private static final Shape NONE = new Shape(0, 0);

  /** The kernel's gather index into [0, the 150 weights]: 0 where the kernel holds 0. */
  private static final long[] GATHER = gatherIndex();

  private final SequentialBlock lenet5;

  /**
   * {@link #GATHER} on the parameters' device, made by the first forward pass with the parameters'
   * manager (closed with the model): made per step, its direct buffer would live until a garbage
   * collection (see {@link BatchInput}).
   */
  private NDArray gather;

  PhasedLeNet5(SequentialBlock lenet5) {
    this.lenet5 = addChildBlock("lenet5", lenet5);
  }

  private static long[] gatherIndex() {
    int[] index = Conv1Phases.kernelIndex();
    long[] gather = new long[index.length];
    for (int i = 0; i < index.length; i++) {
      gather[i] = index[i] + 1;
    }
    return gather;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    lenet5.initialize(manager, dataType, LeNet5.INPUT_SHAPE);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape pixels = new Shape(inputShapes[0].get(0), 1, 28, 28);
    return lenet5.getOutputShapes(new Shape[] {pixels});
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    NDManager manager = x.getManager(); // owns every intermediate (the batch's)
    Device device = x.getDevice();
    long n = x.getShape().get(0);
    List<Block> layers = lenet5.getChildren().values();
    Block conv = layers.get(0);
    Block norm = layers.get(1);
    NDArray weight = value(store, conv, "weight", device, training);
    NDArray bias = value(store, conv, "bias", device, training);
    // Operations on a parameter would belong to the parameter's manager (the model's, until the
    // run ends): each is moved to the batch's.
    NDArray flat = own(weight.reshape(weight.getShape().size()), manager);
    NDArray withZero = manager.zeros(new Shape(1)).concat(flat);
    NDArray kernel = withZero.take(manager, gather(weight)).reshape(Conv1Phases.KERNEL_SHAPE);
    NDArray biases = own(bias.tile(4), manager);
    NDArray y = Conv2d.conv2d(x, kernel, biases, ONE, NONE, ONE, 1).singletonOrThrow();
    int side = Conv1Phases.POOLED_SIDE;
    y = y.reshape(4 * n, Conv1Phases.FILTERS, side, side);
    y = batchNorm(store, norm, y, training);
    y = Activation.relu(y);
    y = y.reshape(n, 4, Conv1Phases.FILTERS * side * side).mean(new int[] {1});
    y = y.reshape(n, Conv1Phases.FILTERS, side, side);
    for (int i = PHASED_LAYERS; i < layers.size(); i++) {
      Block layer = layers.get(i);
      y =
          layer instanceof BatchNorm
              ? batchNorm(store, layer, y, training)
              : layer.forward(store, new NDList(y), training, params).singletonOrThrow();
    }
    return new NDList(y);
  }

  /**
   * A LeNet-5 BatchNorm over axis 1 as libtorch computes it. Axis -1 is DJL's "the engine's own":
   * with axis 1 (the block's) DJL wraps the call in two axis swaps and a manager of their own, each
   * a native call and a node for the backward pass, at every BatchNorm of every step.
   */
  private static NDArray batchNorm(ParameterStore store, Block norm, NDArray y, boolean training) {
    Device device = y.getDevice();
    return BatchNorm.batchNorm(
            y,
            value(store, norm, "runningMean", device, training),
            value(store, norm, "runningVar", device, training),
            value(store, norm, "gamma", device, training),
            value(store, norm, "beta", device, training),
            -1,
            LeNet5.BN_MOMENTUM,
            LeNet5.BN_EPSILON,
            training)
        .singletonOrThrow();
  }

  private NDArray gather(NDArray weight) {
    if (gather == null) {
      gather = weight.getManager().create(GATHER, new Shape(GATHER.length));
    }
    return gather;
  }

  private static NDArray value(
      ParameterStore store, Block block, String name, Device device, boolean training) {
    return store.getValue(block.getParameters().get(name), device, training);
  }

  private static NDArray own(NDArray array, NDManager manager) {
    array.attach(manager);
    return array;
  }
}
