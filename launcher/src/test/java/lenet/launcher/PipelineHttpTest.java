package lenet.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PipelineHttpTest {

  @Test
  void readsTheFirstFieldOfThatNameWithoutQuotes() {
    String models =
        "{\"serving\":3,\"champion\":\"3\",\"caughtUp\":true,\"versions\":[{\"serving\":9}]}";
    assertThat(PipelineHttp.field(models, "serving")).contains("3");
    assertThat(PipelineHttp.field(models, "champion")).contains("3");
    assertThat(PipelineHttp.field(models, "caughtUp")).contains("true");
    assertThat(PipelineHttp.field(models, "missing")).isEmpty();
  }
}
