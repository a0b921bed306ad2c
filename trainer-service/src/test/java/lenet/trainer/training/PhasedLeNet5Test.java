package lenet.trainer.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import lenet.kafka.SharedKafkaResource;
import lenet.model.Conv1Phases;
import lenet.model.LeNet5;
import lenet.model.ModelIO;
import org.junit.jupiter.api.Test;

/**
 * The phase layout trains the same network: outputs, every parameter's gradient and the BatchNorm
 * statistics it keeps equal the plain block's in training mode, on real images. A Quarkus test for
 * the reason {@link TrainingTest} gives.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class PhasedLeNet5Test {

  private static final int N = 16;

  private record Pass(float[] logits, List<float[]> gradients, List<float[]> parameters) {}

  @Test
  void computesTheSameFunctionGradientsAndStatisticsAsTheBlock() {
    TrainingTest.load();
    float[] pixels = java.util.Arrays.copyOf(TrainingTest.data.train().pixels(), N * 784);
    float[] phases = new float[N * Conv1Phases.IMAGE_SIZE];
    for (int i = 0; i < N; i++) {
      Conv1Phases.spaceToDepth(pixels, i * 784, phases, i * Conv1Phases.IMAGE_SIZE);
    }
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      Engine.getEngine("PyTorch").setRandomSeed(7);
      SequentialBlock plain = LeNet5.newBlock();
      plain.initialize(manager, DataType.FLOAT32, LeNet5.INPUT_SHAPE);
      SequentialBlock wrapped = LeNet5.newBlock();
      ModelIO.loadParameters(wrapped, manager, ModelIO.parameters(plain));
      PhasedLeNet5 phased = new PhasedLeNet5(wrapped);
      phased.initialize(manager, DataType.FLOAT32, PhasedLeNet5.INPUT_SHAPE);

      Pass a = pass(plain, plain, manager, pixels, new Shape(N, 1, 28, 28));
      Pass b = pass(phased, wrapped, manager, phases, new Shape(N, 4, 16, 16));

      assertThat(maxRelative(b.logits(), a.logits())).isLessThan(1e-4);
      assertThat(b.gradients()).hasSize(a.gradients().size());
      // Parameters whose shift a training-mode BatchNorm downstream removes (the convolutions'
      // biases, the BatchNorm before the second convolution's beta) have a gradient of 0: in both
      // it is float rounding, far below the others'. The rest agree.
      double largest = 0;
      for (float[] g : a.gradients()) {
        largest = Math.max(largest, maxAbs(g));
      }
      int compared = 0;
      for (int i = 0; i < a.gradients().size(); i++) {
        if (maxAbs(a.gradients().get(i)) < 1e-3 * largest) {
          assertThat(maxAbs(b.gradients().get(i))).as("parameter " + i).isLessThan(1e-3 * largest);
        } else {
          compared++;
          assertThat(maxRelative(b.gradients().get(i), a.gradients().get(i)))
              .as("gradient of parameter " + i)
              .isLessThan(1e-3);
        }
      }
      assertThat(compared).isGreaterThanOrEqualTo(a.gradients().size() - 3);
      // Parameters after the pass: BatchNorm's running statistics moved alike.
      for (int i = 0; i < a.parameters().size(); i++) {
        assertThat(maxRelative(b.parameters().get(i), a.parameters().get(i)))
            .as("parameter " + i)
            .isLessThan(1e-4);
      }
    }
  }

  /** One training-mode forward and backward of a weighted sum of the logits. */
  private static Pass pass(
      Block network, Block lenet5, NDManager manager, float[] input, Shape shape) {
    List<NDArray> trainable = new ArrayList<>();
    for (Pair<String, Parameter> p : lenet5.getParameters()) {
      if (p.getValue().requiresGradient()) {
        p.getValue().getArray().setRequiresGradient(true);
        trainable.add(p.getValue().getArray());
      }
    }
    try (NDManager step = manager.newSubManager()) {
      NDArray x = step.create(FloatBuffer.wrap(input), shape);
      NDArray logits;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        logits =
            network
                .forward(new ParameterStore(step, false), new NDList(x), true)
                .singletonOrThrow();
        NDArray weights = step.arange(0f, (float) logits.size()).reshape(logits.getShape());
        collector.backward(logits.mul(weights.sin()).sum());
      }
      List<float[]> gradients = new ArrayList<>();
      for (NDArray p : trainable) {
        gradients.add(p.getGradient().toFloatArray());
      }
      List<float[]> parameters = new ArrayList<>();
      for (Pair<String, Parameter> p : lenet5.getParameters()) {
        parameters.add(p.getValue().getArray().toFloatArray());
      }
      return new Pass(logits.toFloatArray(), gradients, parameters);
    }
  }

  /** The largest difference relative to b's largest magnitude. */
  private static double maxRelative(float[] a, float[] b) {
    double scale = Math.max(maxAbs(b), 1e-12);
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max / scale;
  }

  private static double maxAbs(float[] values) {
    double max = 0;
    for (float v : values) {
      max = Math.max(max, Math.abs(v));
    }
    return max;
  }
}
