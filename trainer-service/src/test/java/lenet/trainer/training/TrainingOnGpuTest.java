package lenet.trainer.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.util.cuda.CudaUtils;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import lenet.contract.dataset.MnistSet;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.TrainingCommand;
import lenet.contract.wire.TrainingEvent.EpochMetrics;
import lenet.kafka.SharedKafkaResource;
import lenet.mnist.MnistFiles;
import lenet.model.Gpus;
import lenet.model.LeNet5;
import lenet.model.ModelIO;
import lenet.trainer.TrainerConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A run on the GPU through {@link Training#run}, against the same run on the CPU from the same
 * parameters. Runs wherever DJL sees a GPU; skipped elsewhere, with the reason printed (before any
 * data is read, so a skip costs nothing).
 *
 * <p>{@code Training.run} hands out no model, so where its tensors lived shows in what it does: the
 * run finishes (libtorch refuses an operation whose operands are on different devices, so a batch,
 * a label, a loss sum or an evaluation input left on the CPU fails its first step); the GPU's
 * memory in use grows (libtorch's allocator keeps what the model and its batches took); and its
 * results differ from the CPU run's in the last bits (a seeded CPU run repeats bit for bit) while
 * agreeing within what float rounding and cuDNN's TF32 convolutions explain.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class TrainingOnGpuTest {

  @Inject TrainerConfig config;

  @BeforeEach
  void needsAGpu() {
    String why = Gpus.absence().map(r -> "no GPU: " + r).orElse(null);
    if (why != null) {
      System.out.println("SKIPPED " + TrainingOnGpuTest.class.getSimpleName() + ": " + why);
    }
    Assumptions.assumeTrue(why == null, why);
  }

  /** What one run left: its result and the parameters after its last epoch. */
  private record Outcome(Training.Result result, float[][] parameters) {}

  @Test
  void trainsOnTheGpuWhatItTrainsOnTheCpu() {
    MnistFiles files =
        new MnistFiles(Path.of(System.getProperty("mnist.dir", "../data/mnist")), true);
    MnistSet train = files.ensurePresent().train();
    TrainingData data =
        new TrainingData(
            "gpu-subset",
            TrainingTest.split(Split.TRAIN, train, 0, 640),
            TrainingTest.split(Split.DEV, train, 50_000, 256),
            TrainingTest.split(Split.TEST, files.test(), 0, 256));
    // The service's defaults (schedule, augmentation, ...) with two short epochs of 10 steps of
    // SGD.
    RunSpec spec =
        RunSpec.of(
            "gpu-vs-cpu", new TrainingCommand("gpu-vs-cpu", 2, 64, 0.05, "sgd", 7L, null), config);
    // One start for both: the GPU's random generator would initialize other weights.
    Training.Start start = new Training.Start(0, initialParameters());

    Outcome cpu = run(spec, data, Device.cpu(), start);
    long before = gpuMemoryInUse();
    Outcome gpu = run(spec, data, Device.gpu(), start);
    assertThat(gpuMemoryInUse()).as("GPU memory in use after the run").isGreaterThan(before);

    assertThat(gpu.result().history()).hasSize(2);
    for (int e = 0; e < 2; e++) {
      EpochMetrics g = gpu.result().history().get(e);
      EpochMetrics c = cpu.result().history().get(e);
      assertThat(g.loss()).as("epoch %d train loss", e + 1).isCloseTo(c.loss(), within(0.01));
      assertThat(g.accuracy()).isCloseTo(c.accuracy(), within(0.02));
      assertThat(g.devLoss()).as("epoch %d dev loss", e + 1).isCloseTo(c.devLoss(), within(0.01));
      assertThat(g.devAccuracy()).isCloseTo(c.devAccuracy(), within(0.02));
    }
    assertThat(gpu.result().test().loss()).isCloseTo(cpu.result().test().loss(), within(0.01));
    assertThat(gpu.result().test().accuracy())
        .isCloseTo(cpu.result().test().accuracy(), within(0.02));
    // It learned (the same on both): the loss fell and the digits beat chance after 20 steps.
    assertThat(gpu.result().history().get(1).loss())
        .isLessThan(gpu.result().history().get(0).loss());
    assertThat(gpu.result().test().accuracy()).isGreaterThan(0.3);

    double worst = 0;
    boolean identical = true;
    for (int i = 0; i < cpu.parameters().length; i++) {
      identical &= Arrays.equals(gpu.parameters()[i], cpu.parameters()[i]);
      for (int j = 0; j < cpu.parameters()[i].length; j++) {
        // Relative for large values (BatchNorm's running variances), absolute below 1.
        float c = cpu.parameters()[i][j];
        worst = Math.max(worst, Math.abs(gpu.parameters()[i][j] - c) / Math.max(1, Math.abs(c)));
      }
    }
    assertThat(worst).as("largest parameter difference, GPU vs CPU").isLessThan(5e-3);
    assertThat(identical)
        .as("the GPU run's parameters are bit-identical to the CPU run's")
        .isFalse();
  }

  private static Outcome run(RunSpec spec, TrainingData data, Device device, Training.Start start) {
    List<byte[]> last = new ArrayList<>(1);
    Training.Result result =
        Training.run(spec, data, device, (epoch, metrics, test, params) -> last.add(params), start);
    return new Outcome(result, floats(last.get(last.size() - 1)));
  }

  /** A fresh LeNet-5's parameters, initialized on the CPU from a fixed seed. */
  private static byte[] initialParameters() {
    Engine.getEngine("PyTorch").setRandomSeed(11);
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      Block block = LeNet5.newBlock();
      block.initialize(manager, DataType.FLOAT32, LeNet5.INPUT_SHAPE);
      return ModelIO.parameters(block);
    }
  }

  /** A parameter stream read back on the CPU, one array per parameter in the block's order. */
  private static float[][] floats(byte[] parameters) {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      Block block = LeNet5.newBlock();
      ModelIO.loadParameters(block, manager, parameters);
      ai.djl.nn.ParameterList ps = block.getParameters();
      float[][] out = new float[ps.size()][];
      for (int i = 0; i < out.length; i++) {
        out[i] = ps.get(i).getValue().getArray().toFloatArray();
      }
      return out;
    }
  }

  /** Bytes in use on the first GPU, by any process (CUDA's own count). */
  private static long gpuMemoryInUse() {
    return CudaUtils.getGpuMemory(Device.gpu()).getCommitted();
  }
}
