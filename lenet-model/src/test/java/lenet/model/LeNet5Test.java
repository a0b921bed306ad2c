package lenet.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class LeNet5Test {

  @Test
  void hasTheTutorialsParameterCountsAndShapes() {
    try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
      LeNet5.Summary summary = LeNet5.summary(manager);
      assertThat(summary.total()).isEqualTo(62_698).isEqualTo(LeNet5.TOTAL_PARAMETERS);
      assertThat(summary.trainable()).isEqualTo(62_202).isEqualTo(LeNet5.TRAINABLE_PARAMETERS);
      assertThat(summary.nonTrainable()).isEqualTo(496);
      assertThat(summary.rows()).hasSize(18);
      assertThat(summary.rows().get(0).outputShape()).isEqualTo("(None, 6, 28, 28)");
      assertThat(summary.rows().get(0).parameters()).isEqualTo(156);
      assertThat(summary.rows().get(8).outputShape()).isEqualTo("(None, 16, 5, 5)");
      assertThat(summary.rows().get(10).outputShape()).isEqualTo("(None, 400)");
      assertThat(summary.rows().get(11).parameters()).isEqualTo(48_120);
      assertThat(summary.rows().get(17).outputShape()).isEqualTo("(None, 10)");
      assertThat(summary.rows().stream().filter(r -> r.layer().startsWith("batch_norm")))
          .hasSize(6);
      assertThat(summary.table()).contains("Total params: 62,698");
    }
  }
}
