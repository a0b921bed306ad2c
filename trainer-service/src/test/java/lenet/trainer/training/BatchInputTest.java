package lenet.trainer.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.Random;
import lenet.contract.dataset.DatasetReader.SplitData;
import lenet.contract.wire.DatasetBatch;
import lenet.kafka.SharedKafkaResource;
import lenet.model.Conv1Phases;
import org.junit.jupiter.api.Test;

/**
 * A Quarkus test only to share the class loader that loaded libtorch (see {@link TrainingTest}).
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class BatchInputTest {

  private static SplitData split(int n) {
    return Training.randomImages(DatasetBatch.Split.TRAIN, n, new Random(7));
  }

  @Test
  void buildsTheImagesInPhasesAndTheirLabelsAlsoForAShortLastBatch() {
    SplitData split = split(10);
    BatchInput input = new BatchInput(split, Augmentation.NONE, 4);
    int[] order = {9, 2, 5, 0, 7, 1, 3, 8, 6, 4};
    try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
      for (int from : new int[] {0, 4, 8}) { // the last batch holds 2
        int size = Math.min(4, order.length - from);
        NDList xy = input.next(manager, order, from, size, new Random(1));
        assertEquals(new Shape(size, 4, Conv1Phases.SIDE, Conv1Phases.SIDE), xy.get(0).getShape());
        assertEquals(new Shape(size), xy.get(1).getShape());
        float[] expected = new float[size * Conv1Phases.IMAGE_SIZE];
        float[] labels = new float[size];
        for (int i = 0; i < size; i++) {
          Conv1Phases.spaceToDepth(
              java.util.Arrays.copyOfRange(
                  split.pixels(),
                  order[from + i] * DatasetBatch.IMAGE_SIZE,
                  (order[from + i] + 1) * DatasetBatch.IMAGE_SIZE),
              0,
              expected,
              i * Conv1Phases.IMAGE_SIZE);
          labels[i] = split.labels()[order[from + i]];
        }
        assertArrayEquals(expected, xy.get(0).toFloatArray());
        assertArrayEquals(labels, xy.get(1).toFloatArray());
        xy.close();
      }
    }
  }

  /**
   * The batches reuse the same native memory: an array made from a Java array would take a new
   * direct buffer per batch (0.5 MB at batch 128), freed only by a garbage collection.
   */
  @Test
  void batchesTakeNoNewDirectMemory() {
    SplitData split = split(256);
    BatchInput input = new BatchInput(split, new Augmentation(2, 0, 0), 128);
    int[] order = Training.permutation(256, new Random(3));
    try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
      Random random = new Random(5);
      input.next(manager, order, 0, 128, random).close();
      long before = DirectMemory.bytes();
      for (int i = 0; i < 100; i++) {
        input.next(manager, order, (i % 2) * 128, 128, random).close();
      }
      long grown = DirectMemory.bytes() - before;
      assertTrue(grown < 64 * 1024, "direct buffers grew by " + grown + " bytes over 100 batches");
    }
  }
}
