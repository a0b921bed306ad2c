package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import lenet.contract.dataset.MnistSet;
import lenet.contract.wire.Checkpoint;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.model.LeNet5Inference;
import lenet.model.ModelIO;
import org.junit.jupiter.api.Test;

/**
 * The network the service serves (compiled for inference) against the trained block it came from,
 * on real MNIST test images: the same digit for every image, the same probabilities within float
 * rounding. A Quarkus test only so that it shares the application's class loader, which holds
 * libtorch once the other tests have started it (a JVM loads a native library in one loader).
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class CompiledNetworkTest {

  @Test
  void servesWhatTheTrainedBlockComputes() {
    Checkpoint checkpoint = TestModels.checkpoint(1, 0.9);
    MnistSet test = TestModels.mnistTest();
    int n = Math.min(1000, test.count());
    float[][] rows = new float[n][MnistSet.IMAGE_BYTES];
    float[] flat = new float[n * MnistSet.IMAGE_BYTES];
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < MnistSet.IMAGE_BYTES; p++) {
        rows[i][p] = test.pixel(i, p) / 255f;
        flat[i * MnistSet.IMAGE_BYTES + p] = rows[i][p];
      }
    }
    float[] expected;
    try (Model model = ModelIO.load(checkpoint, Device.cpu());
        NDManager m = model.getNDManager().newSubManager()) {
      expected =
          model
              .getBlock()
              .forward(
                  new ParameterStore(m, false),
                  new NDList(m.create(flat, new Shape(n, 1, 28, 28))),
                  false)
              .singletonOrThrow()
              .softmax(1)
              .toFloatArray();
    }
    try (LeNet5Inference network = LeNet5Inference.load(checkpoint, Device.cpu())) {
      float[][] actual = network.probabilities(rows);
      double worst = 0;
      int sameDigit = 0;
      for (int i = 0; i < n; i++) {
        int best = 0;
        int bestExpected = 0;
        for (int k = 0; k < 10; k++) {
          worst = Math.max(worst, Math.abs(actual[i][k] - expected[i * 10 + k]));
          best = actual[i][k] > actual[i][best] ? k : best;
          bestExpected = expected[i * 10 + k] > expected[i * 10 + bestExpected] ? k : bestExpected;
        }
        sameDigit += best == bestExpected ? 1 : 0;
      }
      assertThat(sameDigit).isEqualTo(n);
      assertThat(worst).isLessThan(1e-4);
    }
  }
}
