package lenet.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import lenet.contract.wire.Checkpoint;

/**
 * The tutorial's LeNet-5 with BatchNorm, the one definition both the trainer and the inference
 * service build (DJL needs the block in code to load parameters). Layer for layer as the Keras
 * summary: ZeroPadding 2 (folded into the first convolution's padding) -> Conv 6@5x5 -> BN -> ReLU
 * -> AvgPool 2/2 -> BN -> Conv 16@5x5 -> BN -> ReLU -> AvgPool 2/2 -> BN -> Flatten -> Dense 120
 * ReLU -> BN -> Dense 84 ReLU -> BN -> Dense 10.
 *
 * <p>The last layer emits logits: softmax is applied by the loss in training and by the scorer in
 * inference, which is the numerically stable form of the tutorial's {@code Dense(10,
 * activation='softmax')}.
 */
public final class LeNet5 {

  /**
   * Changes whenever the layer list changes, so an old checkpoint is refused instead of mis-loaded
   * (the checkpoint header's value: a change goes there).
   */
  public static final String ARCHITECTURE_ID = Checkpoint.Header.LENET5_ARCHITECTURE_ID;

  public static final String MODEL_NAME = Checkpoint.Header.LENET5_MODEL_NAME;
  public static final Shape INPUT_SHAPE = new Shape(1, 1, 28, 28);
  public static final long TOTAL_PARAMETERS = Checkpoint.Header.LENET5_PARAMETERS;
  public static final long TRAINABLE_PARAMETERS = 62_202;

  /** BatchNorm's epsilon (Keras's default), also used where inference folds the BatchNorms. */
  public static final float BN_EPSILON = 1e-3f;

  /** BatchNorm's momentum (Keras's default): the running statistics keep 0.99 per batch. */
  public static final float BN_MOMENTUM = 0.99f;

  private LeNet5() {}

  /** One layer of the network with the name the Keras summary gives it. */
  public record Layer(String name, Block block) {}

  /** A row of the Keras-style summary. */
  public record SummaryRow(String layer, String outputShape, long parameters) {}

  /** The summary with its totals. */
  public record Summary(List<SummaryRow> rows, long total, long trainable, long nonTrainable) {

    /** The table as Keras prints it, for logs. */
    public String table() {
      StringBuilder out = new StringBuilder();
      String line = "-".repeat(72) + "\n";
      out.append(String.format("%-34s %-24s %12s%n", "Layer (type)", "Output Shape", "Param #"));
      out.append(line.replace('-', '='));
      for (SummaryRow r : rows) {
        out.append(
            String.format("%-34s %-24s %,12d%n", r.layer(), r.outputShape(), r.parameters()));
      }
      out.append(line.replace('-', '='));
      out.append(String.format("Total params: %,d%n", total));
      out.append(String.format("Trainable params: %,d%n", trainable));
      out.append(String.format("Non-trainable params: %,d%n", nonTrainable));
      return out.toString();
    }
  }

  public static List<Layer> layers() {
    return List.of(
        new Layer("conv2d (ZeroPadding 2, 6@5x5)", conv(6, 2)),
        new Layer("batch_normalization", batchNorm()),
        new Layer("activation (ReLU)", Activation.reluBlock()),
        new Layer("average_pooling2d (2/2)", pool()),
        new Layer("batch_normalization_1", batchNorm()),
        new Layer("conv2d_1 (16@5x5)", conv(16, 0)),
        new Layer("batch_normalization_2", batchNorm()),
        new Layer("activation_1 (ReLU)", Activation.reluBlock()),
        new Layer("average_pooling2d_1 (2/2)", pool()),
        new Layer("batch_normalization_3", batchNorm()),
        new Layer("flatten", Blocks.batchFlattenBlock()),
        new Layer("dense (120)", Linear.builder().setUnits(120).build()),
        new Layer("activation_2 (ReLU)", Activation.reluBlock()),
        new Layer("batch_normalization_4", batchNorm()),
        new Layer("dense_1 (84)", Linear.builder().setUnits(84).build()),
        new Layer("activation_3 (ReLU)", Activation.reluBlock()),
        new Layer("batch_normalization_5", batchNorm()),
        new Layer("dense_2 (10, logits)", Linear.builder().setUnits(10).build()));
  }

  /** A new, uninitialized block. */
  public static SequentialBlock newBlock() {
    SequentialBlock block = new SequentialBlock();
    layers().forEach(l -> block.add(l.block()));
    return block;
  }

  /** Builds and initializes a fresh block on {@code manager} and tabulates it. */
  public static Summary summary(NDManager manager) {
    List<Layer> layers = layers();
    SequentialBlock block = new SequentialBlock();
    layers.forEach(l -> block.add(l.block()));
    block.initialize(manager, DataType.FLOAT32, INPUT_SHAPE);
    List<SummaryRow> rows = new ArrayList<>();
    Shape shape = INPUT_SHAPE;
    long total = 0;
    long trainable = 0;
    for (Layer layer : layers) {
      shape = layer.block().getOutputShapes(new Shape[] {shape})[0];
      long params = 0;
      for (Pair<String, Parameter> p : layer.block().getParameters()) {
        long size = p.getValue().getArray().size();
        params += size;
        if (p.getValue().requiresGradient()) {
          trainable += size;
        }
      }
      total += params;
      String shown = "(None, " + shape.slice(1).toString().replaceAll("[()]", "") + ")";
      rows.add(new SummaryRow(layer.name(), shown, params));
    }
    return new Summary(List.copyOf(rows), total, trainable, total - trainable);
  }

  private static Block conv(int filters, int padding) {
    return Conv2d.builder()
        .setKernelShape(new Shape(5, 5))
        .setFilters(filters)
        .optPadding(new Shape(padding, padding))
        .build();
  }

  private static Block pool() {
    return Pool.avgPool2dBlock(new Shape(2, 2), new Shape(2, 2));
  }

  /** Keras defaults (momentum 0.99, epsilon 1e-3), as the tutorial uses them. */
  private static Block batchNorm() {
    return BatchNorm.builder().optMomentum(BN_MOMENTUM).optEpsilon(BN_EPSILON).build();
  }
}
