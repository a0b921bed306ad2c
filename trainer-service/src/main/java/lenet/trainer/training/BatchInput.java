package lenet.trainer.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Random;
import lenet.contract.dataset.DatasetReader.SplitData;
import lenet.contract.wire.DatasetBatch;
import lenet.model.Conv1Phases;
import lenet.model.HostBuffers;

/**
 * Builds each training batch's input arrays, the images augmented and in the phase layout of {@link
 * Conv1Phases} and their labels, in two direct buffers that every batch of a run reuses.
 *
 * <p>Why not from Java arrays ({@link HostBuffers} says how DJL takes them): the trainer makes
 * little garbage, so collections are rare, and at batch 128 the native heap grew by ~0.5 MB a step
 * (an epoch ~200 MB) and every step faulted fresh pages in (~160 a step), a fifth of a step on one
 * thread (BENCHMARKS.md, "Where the time goes").
 */
final class BatchInput {

  private final SplitData split;
  private final Augmentation augmentation;
  private final float[] image = new float[DatasetBatch.IMAGE_SIZE];
  private final float[] phases = new float[Conv1Phases.IMAGE_SIZE]; // padding stays 0
  private final ByteBuffer pixels;
  private final ByteBuffer labels;

  BatchInput(SplitData split, Augmentation augmentation, int batchSize) {
    this.split = split;
    this.augmentation = augmentation;
    this.pixels = HostBuffers.floats(batchSize * Conv1Phases.IMAGE_SIZE);
    this.labels = HostBuffers.floats(batchSize);
  }

  /** How many images the split holds. */
  int images() {
    return split.count();
  }

  /**
   * Images {@code order[from]} to {@code order[from + size - 1]}, augmented, as [size, 4, 16, 16]
   * and their labels as [size], on {@code manager}. The arrays share this object's buffers: close
   * them before the next call (on a GPU they are copies).
   */
  NDList next(NDManager manager, int[] order, int from, int size, Random random) {
    FloatBuffer x = pixels.clear().asFloatBuffer();
    FloatBuffer y = labels.clear().asFloatBuffer();
    for (int i = 0; i < size; i++) {
      int src = order[from + i];
      augmentation.apply(split.pixels(), src * DatasetBatch.IMAGE_SIZE, image, 0, random);
      Conv1Phases.spaceToDepth(image, 0, phases, 0);
      x.put(phases);
      y.put(split.labels()[src]);
    }
    // The arrays read the buffers from their start; DJL checks that exactly their size remains.
    pixels.limit(size * Conv1Phases.IMAGE_SIZE * Float.BYTES);
    labels.limit(size * Float.BYTES);
    NDArray images =
        manager.create(
            pixels, new Shape(size, 4, Conv1Phases.SIDE, Conv1Phases.SIDE), DataType.FLOAT32);
    return new NDList(images, manager.create(labels, new Shape(size), DataType.FLOAT32));
  }
}
