package lenet.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.WireFormatException;
import org.junit.jupiter.api.Test;

class ModelIOTest {

  @Test
  void aCheckpointReloadsToBitIdenticalOutputs() {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      var block = LeNet5.newBlock();
      block.initialize(manager, DataType.FLOAT32, LeNet5.INPUT_SHAPE);
      byte[] params = ModelIO.parameters(block);
      assertThat(params.length).isBetween(240_000, 270_000);
      Checkpoint cp = new Checkpoint(header(params, LeNet5.ARCHITECTURE_ID), params);
      NDArray x = manager.randomUniform(0, 1, new ai.djl.ndarray.types.Shape(4, 1, 28, 28));
      float[] expected =
          block
              .forward(new ParameterStore(manager, false), new NDList(x), false)
              .singletonOrThrow()
              .toFloatArray();
      try (Model model = ModelIO.load(Checkpoint.decode(cp.encode()), Device.cpu());
          NDManager sub = model.getNDManager().newSubManager()) {
        NDArray copy = sub.create(x.toFloatArray(), x.getShape());
        float[] actual =
            model
                .getBlock()
                .forward(new ParameterStore(sub, false), new NDList(copy), false)
                .singletonOrThrow()
                .toFloatArray();
        assertThat(actual).containsExactly(expected);
      }
      Checkpoint other = new Checkpoint(header(params, "resnet"), params);
      assertThatThrownBy(() -> ModelIO.load(other, Device.cpu()))
          .isInstanceOf(WireFormatException.class)
          .hasMessageContaining("is for architecture 'resnet'");
    }
  }

  private static Checkpoint.Header header(byte[] params, String arch) {
    return Checkpoint.Header.lenet5(1)
        .runId("r")
        .epoch(1, 1)
        .architectureId(arch)
        .parametersOf(params)
        .build();
  }
}
