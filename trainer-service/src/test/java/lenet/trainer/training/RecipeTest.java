package lenet.trainer.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.loss.Loss;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.List;
import lenet.contract.wire.TrainingEvent.EpochMetrics;
import lenet.kafka.SharedKafkaResource;
import lenet.model.HostBuffers;
import lenet.model.LeNet5;
import lenet.model.ModelIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each training technique of a {@link Recipe} does what it says, on the real engine. A Quarkus test
 * for the reason {@link TrainingTest} gives.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class RecipeTest {

  static TrainingData data;

  @BeforeAll
  static void load() {
    TrainingTest.load();
    TrainingData all = TrainingTest.data;
    data =
        new TrainingData(
            "recipe",
            new lenet.contract.dataset.DatasetReader.SplitData(
                all.train().split(),
                java.util.Arrays.copyOf(all.train().pixels(), 2000 * 784),
                java.util.Arrays.copyOf(all.train().labels(), 2000)),
            all.dev(),
            all.test());
  }

  private record Run(List<EpochMetrics> epochs, List<byte[]> parameters, Training.Result result) {}

  private static Run train(Recipe recipe) {
    return train("adam", recipe);
  }

  private static Run train(String optimizer, Recipe recipe) {
    return train(optimizer, 0.001, recipe);
  }

  private static Run train(String optimizer, double learningRate, Recipe recipe) {
    RunSpec spec =
        new RunSpec(
            "r", 2, 50, learningRate, optimizer, 11, "cosine", Augmentation.NONE, null, recipe);
    List<EpochMetrics> epochs = new ArrayList<>();
    List<byte[]> parameters = new ArrayList<>();
    Training.Result result =
        Training.run(
            spec,
            data,
            Device.cpu(),
            (epoch, m, test, p) -> {
              epochs.add(m);
              parameters.add(p);
            });
    return new Run(epochs, parameters, result);
  }

  @Test
  void theWeightAverageIsEvaluatedAndCheckpointedWhileTheRawWeightsTrainAsWithoutIt() {
    Run plain = train(Recipe.PLAIN);
    Run averaged = train(new Recipe(0, 0, 0.99, 0, 0));
    for (int i = 0; i < 2; i++) {
      EpochMetrics p = plain.epochs().get(i);
      EpochMetrics a = averaged.epochs().get(i);
      assertThat(p.rawDevAccuracy()).isNull();
      // The average does not touch training: the raw weights are the plain run's, exactly.
      assertThat(a.loss()).isEqualTo(p.loss());
      assertThat(a.rawDevAccuracy()).isEqualTo(p.devAccuracy());
      assertThat(averaged.parameters().get(i)).isNotEqualTo(plain.parameters().get(i));
    }
    // What the checkpoint holds is what was evaluated: the average, not the raw weights.
    byte[] stored = averaged.parameters().get(1);
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      Block block = LeNet5.newBlock();
      ModelIO.loadParameters(block, manager, stored);
      Evaluation dev = Evaluation.of(block, Device.cpu(), data.dev());
      Evaluation test = Evaluation.of(block, Device.cpu(), data.test());
      assertThat(dev.accuracy()).isEqualTo(averaged.epochs().get(1).devAccuracy());
      assertThat(test.accuracy()).isEqualTo(averaged.result().test().accuracy());
    }
    // A working model of its own, if behind the raw weights this early (80 steps, decay 0.9 by the
    // end): 0.68 against 0.9 when written.
    assertThat(averaged.epochs().get(1).devAccuracy()).isGreaterThan(0.5);
  }

  @Test
  void decoupledWeightDecayKeepsTheWeightsSmallerThanTheSameRunWithout() {
    Run without = train("adamw", Recipe.PLAIN);
    Run with = train("adamw", new Recipe(0, 0, 0, 0.5, 0));
    double plain = squaredWeights(without.parameters().get(1));
    double decayed = squaredWeights(with.parameters().get(1));
    // lr 1e-3 x 0.5 per step over 80 steps shrinks each weight by up to ~4% on top of training.
    assertThat(decayed).isLessThan(plain * 0.99);
    // ...and it still learns: training accuracy (BatchNorm on batch statistics; this early, dev's
    // running statistics still hold half their initial values) close to the run without.
    assertThat(with.epochs().get(1).accuracy())
        .isGreaterThan(0.8)
        .isCloseTo(without.epochs().get(1).accuracy(), within(0.05));
  }

  /** The sum of squares of the convolution and dense weights in a checkpoint's parameters. */
  private static double squaredWeights(byte[] parameters) {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      Block block = LeNet5.newBlock();
      ModelIO.loadParameters(block, manager, parameters);
      double sum = 0;
      for (Pair<String, Parameter> p : block.getParameters()) {
        if (p.getValue().getType() == Parameter.Type.WEIGHT) {
          for (float v : p.getValue().getArray().toFloatArray()) {
            sum += v * v;
          }
        }
      }
      return sum;
    }
  }

  @Test
  void theAverageMovesByOneMinusTheDecayTowardsTheWeightsAfterItsFirstSteps() {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      Block block = LeNet5.newBlock();
      block.initialize(manager, DataType.FLOAT32, LeNet5.INPUT_SHAPE);
      WeightAverage average = new WeightAverage(block, manager, 0.5);
      List<NDArray> start = arrays(average.block(), manager);
      List<NDArray> raw = arrays(block, null);
      raw.forEach(a -> a.addi(1f)); // the trained weights move by 1
      average.update(); // step 1: d = min(0.5, 2/11)
      List<NDArray> after = arrays(average.block(), manager);
      float moved = 1 - 2f / 11;
      for (int i = 0; i < raw.size(); i++) {
        float[] s = start.get(i).toFloatArray();
        float[] a = after.get(i).toFloatArray();
        for (int k = 0; k < s.length; k++) {
          assertThat(a[k]).isCloseTo(s[k] + moved, within(1e-5f));
        }
      }
      for (int t = 2; t < 200; t++) {
        average.update(); // raw stays put: the average converges to it
      }
      float[] last = arrays(average.block(), manager).get(0).toFloatArray();
      float[] target = raw.get(0).toFloatArray();
      for (int k = 0; k < last.length; k++) {
        assertThat(last[k]).isCloseTo(target[k], within(1e-4f));
      }
    }
  }

  /** The block's parameter arrays, or copies of them on {@code copyTo}. */
  private static List<NDArray> arrays(Block block, NDManager copyTo) {
    List<NDArray> out = new ArrayList<>();
    for (Pair<String, Parameter> p : block.getParameters()) {
      NDArray a = p.getValue().getArray();
      out.add(copyTo == null ? a : a.duplicate().toDevice(Device.cpu(), true));
    }
    return out;
  }

  @Test
  void labelSmoothingMovesTheTargetOffTheLabelAndIsThePlainLossAtZero() {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      NDArray logits = manager.create(new float[][] {{4, 1, 0}, {0, 2, -1}});
      NDArray labels = manager.create(new float[] {0, 2});
      NDList y = new NDList(labels);
      NDList x = new NDList(logits);
      float plain = Loss.softmaxCrossEntropyLoss().evaluate(y, x).getFloat();
      assertThat(new SmoothedCrossEntropy(0).evaluate(y, x).getFloat())
          .isCloseTo(plain, within(1e-6f));
      // By hand: -(1-e) log p[label] - e mean(log p), averaged over the two rows.
      double[][] z = {{4, 1, 0}, {0, 2, -1}};
      int[] label = {0, 2};
      double e = 0.1;
      double expected = 0;
      for (int r = 0; r < 2; r++) {
        double lse = Math.log(Math.exp(z[r][0]) + Math.exp(z[r][1]) + Math.exp(z[r][2]));
        double meanLogP = (z[r][0] + z[r][1] + z[r][2]) / 3 - lse;
        expected += -(1 - e) * (z[r][label[r]] - lse) - e * meanLogP;
      }
      expected /= 2;
      float smoothed = new SmoothedCrossEntropy(e).evaluate(y, x).getFloat();
      assertThat((double) smoothed).isCloseTo(expected, within(1e-5));
      // A confident right answer (row 0) costs more under smoothing than without it.
      NDList confident = new NDList(manager.create(new float[][] {{9, 0, 0}}));
      NDList zero = new NDList(manager.create(new float[] {0}));
      assertThat(new SmoothedCrossEntropy(e).evaluate(zero, confident).getFloat())
          .isGreaterThan(Loss.softmaxCrossEntropyLoss().evaluate(zero, confident).getFloat());
    }
  }

  @Test
  void warmUpRisesLinearlyThenTheCosineRunsOverTheRestOfTheSteps() {
    RunSpec spec =
        new RunSpec(
            "w",
            4,
            32,
            0.01,
            "adam",
            1,
            "cosine",
            Augmentation.NONE,
            null,
            new Recipe(1, 0, 0, 0, 0));
    Tracker schedule = Training.schedule(spec, 100); // 400 steps, the first 100 warming up
    assertThat(schedule.getNewValue(0)).isCloseTo(0.01f / 101, within(1e-9f));
    assertThat(schedule.getNewValue(49)).isCloseTo(0.01f * 50 / 101, within(1e-8f));
    assertThat(schedule.getNewValue(99)).isCloseTo(0.01f * 100 / 101, within(1e-8f));
    assertThat(schedule.getNewValue(100)).isCloseTo(0.01f, within(1e-8f));
    assertThat(schedule.getNewValue(250)).isBetween(0.004f, 0.006f); // half-way down the cosine
    assertThat(schedule.getNewValue(400)).isCloseTo(0.0001f, within(1e-7f));
    Tracker none =
        Training.schedule(
            new RunSpec("n", 4, 32, 0.01, "adam", 1, "cosine", Augmentation.NONE, null), 100);
    assertThat(none.getNewValue(0)).isCloseTo(0.01f, within(1e-8f));
  }

  @Test
  void calibratedBatchNormsNormalizeTheSampleExactlyAsItsOwnBatchStatisticsWould() {
    // A block trained 20 steps: its running statistics are training's moving average, far off.
    int n = 300;
    lenet.contract.dataset.DatasetReader.SplitData sample =
        new lenet.contract.dataset.DatasetReader.SplitData(
            data.train().split(),
            java.util.Arrays.copyOf(data.train().pixels(), n * 784),
            java.util.Arrays.copyOf(data.train().labels(), n));
    RunSpec spec =
        new RunSpec("c", 1, 15, 0.01, "adam", 5, "constant", Augmentation.NONE, null, Recipe.PLAIN);
    List<byte[]> trained = new ArrayList<>();
    Training.run(
        spec,
        new TrainingData("c", sample, data.dev(), data.test()),
        Device.cpu(),
        (e, m, t, p) -> trained.add(p));
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      Block block = LeNet5.newBlock();
      ModelIO.loadParameters(block, manager, trained.get(0));
      NDArray images =
          manager.create(
              java.nio.FloatBuffer.wrap(sample.pixels()),
              new ai.djl.ndarray.types.Shape(n, 1, 28, 28));
      // Training mode normalizes the whole sample, as one batch, by its own statistics.
      float[] batchStatistics = logits(block, manager, images, true);
      ModelIO.loadParameters(block, manager, trained.get(0)); // training mode moved the averages
      float[] before = logits(block, manager, images, false);
      HostBuffers buffers = new HostBuffers();
      BatchNormCalibration.calibrate(
          block, manager, sample, n, Augmentation.NONE, new java.util.Random(1), buffers);
      float[] after = logits(block, manager, images, false);
      // Inference mode (running statistics) now computes what training mode computes, to float
      // rounding; before, the logits were far from it.
      assertThat(maxDifference(after, batchStatistics)).isLessThan(1e-3);
      assertThat(maxDifference(before, batchStatistics)).isGreaterThan(0.1);
      // A run calibrates every epoch: the next calibrations write the same buffer again, so no
      // direct buffer is left per epoch for a garbage collection to free.
      long direct = DirectMemory.bytes();
      for (int epoch = 0; epoch < 3; epoch++) {
        BatchNormCalibration.calibrate(
            block, manager, sample, n, Augmentation.NONE, new java.util.Random(epoch), buffers);
      }
      assertThat(DirectMemory.bytes() - direct).isLessThan(64 * 1024);
      assertThat(maxDifference(logits(block, manager, images, false), batchStatistics))
          .isLessThan(1e-3);
    }
  }

  /** A fresh parameter store each time: a store keeps the arrays it first saw. */
  private static float[] logits(Block block, NDManager manager, NDArray images, boolean training) {
    return block
        .forward(new ai.djl.training.ParameterStore(manager, false), new NDList(images), training)
        .singletonOrThrow()
        .toFloatArray();
  }

  private static double maxDifference(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  @Test
  void aShortRunAtAHighRateIsEvaluatedAsTrainedOnlyWithCalibratedBatchNorms() {
    Run without = train("adamw", 0.01, new Recipe(1, 0, 0, 0.1, 0));
    Run with = train("adamw", 0.01, new Recipe(1, 0, 0, 0.1, 2048));
    // The same training (calibration only sets the statistics evaluation uses)...
    assertThat(with.epochs().get(0).loss()).isEqualTo(without.epochs().get(0).loss());
    // ...evaluated with statistics that fit its weights: 80 steps of momentum 0.99 still hold
    // 45% of the initial mean 0 and variance 1.
    double calibrated = with.result().test().accuracy();
    assertThat(calibrated).isGreaterThan(without.result().test().accuracy() + 0.05);
    assertThat(calibrated).isGreaterThan(0.9);
  }

  @Test
  void aRecipeOutsideItsRangesIsRefused() {
    assertThatThrownBy(() -> new Recipe(0, 0.6, 0, 0, 0)).hasMessageContaining("label smoothing");
    assertThatThrownBy(() -> new Recipe(0, 0, 1, 0, 0)).hasMessageContaining("EMA decay");
    assertThatThrownBy(() -> new Recipe(-1, 0, 0, 0, 0)).hasMessageContaining("warm-up");
    assertThatThrownBy(() -> new Recipe(0, 0, 0, 0, -1)).hasMessageContaining("BatchNorm");
  }
}
