package lenet.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.Random;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.Prediction;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A checkpoint on the GPU: loaded there, saved back from there, compiled for inference there, and
 * computing what the CPU computes. Runs wherever DJL sees a GPU; skipped elsewhere, with the reason
 * printed. cuDNN may convolve in TF32 on Ampere and later GPUs, so outputs agree within 5e-3, not
 * to the last bit.
 */
class OnGpuTest {

  private static final Device GPU = Device.gpu();

  @BeforeEach
  void needsAGpu() {
    String why = Gpus.absence().map(r -> "no GPU: " + r).orElse(null);
    if (why != null) {
      System.out.println("SKIPPED " + OnGpuTest.class.getSimpleName() + ": " + why);
    }
    Assumptions.assumeTrue(why == null, why);
  }

  @Test
  void aCheckpointLoadsOntoTheGpuAndSavesBackBitForBit() {
    Checkpoint checkpoint = checkpoint(new Random(5));
    float[][] rows = rows(new Random(6), 64);
    try (Model onGpu = ModelIO.load(checkpoint, GPU);
        Model onCpu = ModelIO.load(checkpoint, Device.cpu())) {
      for (Pair<String, Parameter> p : onGpu.getBlock().getParameters()) {
        assertThat(p.getValue().getArray().getDevice()).as(p.getKey()).isEqualTo(GPU);
      }
      // Saving reads the parameters back to the host: the checkpoint the trainer would publish.
      assertThat(ModelIO.parameters(onGpu.getBlock())).isEqualTo(checkpoint.parameters());

      float[][] gpu = blockProbabilities(onGpu, rows, GPU);
      float[][] cpu = blockProbabilities(onCpu, rows, Device.cpu());
      assertSameDigits(gpu, cpu);
    }
  }

  @Test
  void theCompiledNetworkComputesOnTheGpuWhatItComputesOnTheCpu() {
    Checkpoint checkpoint = checkpoint(new Random(7));
    float[][] rows = rows(new Random(8), 64);
    try (LeNet5Inference gpu = LeNet5Inference.load(checkpoint, GPU);
        LeNet5Inference cpu = LeNet5Inference.load(checkpoint, Device.cpu())) {
      assertThat(gpu.device()).isEqualTo(GPU);
      assertThat(cpu.device()).isEqualTo(Device.cpu());
      float[][] onGpu = gpu.probabilities(rows);
      assertSameDigits(onGpu, cpu.probabilities(rows));
      // One row at a time as well (the HTTP path's batches of one).
      assertThat(gpu.probabilities(new float[][] {rows[9]})[0])
          .containsExactly(onGpu[9], org.assertj.core.data.Offset.offset(5e-3f));
    }
  }

  /**
   * Same digit wherever the CPU's answer is not a near tie, probabilities within 5e-3, and more
   * than one digit among the answers (a constant answer would agree trivially).
   */
  private static void assertSameDigits(float[][] actual, float[][] expected) {
    int decided = 0;
    for (int i = 0; i < expected.length; i++) {
      for (int k = 0; k < 10; k++) {
        assertThat(actual[i][k]).as("row %d class %d", i, k).isCloseTo(expected[i][k], within());
      }
      if (margin(expected[i]) > 0.02) {
        decided++;
        assertThat(Prediction.argMax(actual[i]))
            .as("row %d", i)
            .isEqualTo(Prediction.argMax(expected[i]));
      }
    }
    assertThat(decided).as("rows with a clear answer").isGreaterThan(expected.length / 2);
  }

  private static org.assertj.core.data.Offset<Float> within() {
    return org.assertj.core.data.Offset.offset(5e-3f);
  }

  /**
   * A LeNet-5 checkpoint with random weights and BatchNorm statistics far from the identity (a
   * fresh block's would hide a wrong fold or a statistic left behind on the host).
   */
  private static Checkpoint checkpoint(Random random) {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      Block block = LeNet5.newBlock();
      block.initialize(manager, DataType.FLOAT32, LeNet5.INPUT_SHAPE);
      for (Block layer : block.getChildren().values()) {
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
      byte[] params = ModelIO.parameters(block);
      return new Checkpoint(
          Checkpoint.Header.lenet5(1).runId("gpu").epoch(1, 1).parametersOf(params).build(),
          params);
    }
  }

  /** Images drawn around ten random sparse masks, so that they differ in more than noise. */
  private static float[][] rows(Random random, int n) {
    boolean[][] masks = new boolean[10][784];
    for (boolean[] mask : masks) {
      for (int p = 0; p < mask.length; p++) {
        mask[p] = random.nextFloat() < 0.15f;
      }
    }
    float[][] rows = new float[n][784];
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < 784; p++) {
        rows[i][p] = (masks[i % 10][p] ? 0.6f : 0f) + 0.4f * random.nextFloat();
      }
    }
    return rows;
  }

  /** The block's own forward pass (evaluation mode) with its input created on {@code device}. */
  private static float[][] blockProbabilities(Model model, float[][] rows, Device device) {
    try (NDManager sub = model.getNDManager().newSubManager()) {
      NDArray x = sub.create(flat(rows), new Shape(rows.length, 1, 28, 28));
      assertThat(x.getDevice()).isEqualTo(device);
      NDArray out =
          model
              .getBlock()
              .forward(new ParameterStore(sub, false), new NDList(x), false)
              .singletonOrThrow()
              .softmax(1);
      assertThat(out.getDevice()).isEqualTo(device);
      float[] p = out.toFloatArray();
      float[][] probs = new float[rows.length][10];
      for (int i = 0; i < rows.length; i++) {
        System.arraycopy(p, i * 10, probs[i], 0, 10);
      }
      return probs;
    }
  }

  private static float[] flat(float[][] rows) {
    float[] flat = new float[rows.length * 784];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * 784, 784);
    }
    return flat;
  }

  private static double margin(float[] p) {
    float[] sorted = p.clone();
    java.util.Arrays.sort(sorted);
    return sorted[sorted.length - 1] - sorted[sorted.length - 2];
  }
}
