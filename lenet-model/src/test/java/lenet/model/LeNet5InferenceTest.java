package lenet.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import lenet.contract.wire.Prediction;
import org.junit.jupiter.api.Test;

class LeNet5InferenceTest {

  /**
   * The compiled network against the block it was compiled from, in evaluation mode, with BatchNorm
   * statistics far from the identity (a fresh block's are mean 0, variance 1, which would hide a
   * wrong fold) and images whose every pixel differs, so a misplaced pixel, phase or padding shows.
   */
  @Test
  void computesWhatTheBlockComputes() {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      SequentialBlock block = initialized(manager);
      Random random = new Random(42);
      for (var layer : block.getChildren().values()) {
        if (layer instanceof BatchNorm) {
          for (Pair<String, Parameter> p : layer.getParameters()) {
            NDArray a = p.getValue().getArray();
            float[] v = new float[(int) a.size()];
            for (int i = 0; i < v.length; i++) {
              v[i] =
                  switch (p.getKey()) {
                    case "gamma" -> 0.5f + random.nextFloat();
                    case "runningVar" -> 0.05f + 2 * random.nextFloat();
                    default -> random.nextFloat() - 0.5f;
                  };
            }
            a.set(v);
          }
        }
      }
      float[][] rows = randomRows(random, 37);
      float[][] expected = blockProbabilities(manager, block, rows);
      try (LeNet5Inference net = LeNet5Inference.compile(block, Device.cpu())) {
        float[][] actual = net.probabilities(rows);
        assertThat(actual).hasDimensions(rows.length, 10);
        double worst = 0;
        for (int i = 0; i < rows.length; i++) {
          for (int k = 0; k < 10; k++) {
            worst = Math.max(worst, Math.abs(actual[i][k] - expected[i][k]));
          }
          if (margin(expected[i]) > 1e-4) {
            assertThat(Prediction.argMax(actual[i]))
                .as("row %d", i)
                .isEqualTo(Prediction.argMax(expected[i]));
          }
        }
        assertThat(worst).isLessThan(2e-5);
        // Not a constant answer: the rows are told apart.
        assertThat(distinct(actual)).isGreaterThan(1);

        float[][] one = net.probabilities(new float[][] {rows[3]});
        assertThat(one[0]).containsExactly(actual[3], org.assertj.core.data.Offset.offset(1e-6f));
      }
    }
  }

  @Test
  void servesConcurrentCallersAlike() throws Exception {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      SequentialBlock block = initialized(manager);
      float[][] rows = randomRows(new Random(7), 16);
      ExecutorService pool = Executors.newFixedThreadPool(3);
      try (LeNet5Inference net = LeNet5Inference.compile(block, Device.cpu())) {
        float[][] reference = net.probabilities(rows);
        List<Callable<Boolean>> calls = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
          calls.add(
              () -> {
                for (int i = 0; i < 40; i++) {
                  if (!java.util.Arrays.deepEquals(net.probabilities(rows), reference)) {
                    return false;
                  }
                }
                return true;
              });
        }
        for (Future<Boolean> f : pool.invokeAll(calls)) {
          assertThat(f.get()).isTrue();
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** Calls reuse their input buffers: a new direct buffer per call would wait for a GC. */
  @Test
  void callsTakeNoNewDirectMemory() {
    java.lang.management.BufferPoolMXBean direct =
        java.lang.management.ManagementFactory.getPlatformMXBeans(
                java.lang.management.BufferPoolMXBean.class)
            .stream()
            .filter(p -> p.getName().equals("direct"))
            .findFirst()
            .orElseThrow();
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      SequentialBlock block = initialized(manager);
      float[][] rows = randomRows(new Random(3), 256);
      try (LeNet5Inference net = LeNet5Inference.compile(block, Device.cpu())) {
        net.probabilities(rows);
        long before = direct.getTotalCapacity();
        for (int i = 0; i < 50; i++) {
          net.probabilities(i % 2 == 0 ? rows : java.util.Arrays.copyOf(rows, 17));
        }
        assertThat(direct.getTotalCapacity() - before).isLessThan(64 * 1024);
      }
    }
  }

  @Test
  void refusesABlockThatIsNotLeNet5() {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      SequentialBlock shorter = new SequentialBlock();
      LeNet5.layers().stream().skip(1).forEach(l -> shorter.add(l.block()));
      shorter.initialize(manager, DataType.FLOAT32, new Shape(1, 6, 28, 28));
      assertThatThrownBy(() -> LeNet5Inference.compile(shorter, Device.cpu()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("expected 18");
    }
  }

  private static SequentialBlock initialized(NDManager manager) {
    SequentialBlock block = LeNet5.newBlock();
    block.initialize(manager, DataType.FLOAT32, LeNet5.INPUT_SHAPE);
    return block;
  }

  /** Images whose every pixel differs, so a misplaced pixel shows. */
  private static float[][] randomRows(Random random, int n) {
    float[][] rows = new float[n][784];
    for (float[] row : rows) {
      for (int p = 0; p < row.length; p++) {
        row[p] = random.nextFloat();
      }
    }
    return rows;
  }

  private static float[][] blockProbabilities(
      NDManager manager, SequentialBlock block, float[][] rows) {
    float[] flat = new float[rows.length * 784];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * 784, 784);
    }
    try (NDManager sub = manager.newSubManager()) {
      NDArray x = sub.create(flat, new Shape(rows.length, 1, 28, 28));
      float[] out =
          block
              .forward(new ParameterStore(sub, false), new NDList(x), false)
              .singletonOrThrow()
              .softmax(1)
              .toFloatArray();
      float[][] probs = new float[rows.length][10];
      for (int i = 0; i < rows.length; i++) {
        System.arraycopy(out, i * 10, probs[i], 0, 10);
      }
      return probs;
    }
  }

  /** How far the most probable class is ahead of the second. */
  private static double margin(float[] p) {
    float[] sorted = p.clone();
    java.util.Arrays.sort(sorted);
    return sorted[sorted.length - 1] - sorted[sorted.length - 2];
  }

  private static long distinct(float[][] rows) {
    return java.util.Arrays.stream(rows).map(java.util.Arrays::toString).distinct().count();
  }
}
