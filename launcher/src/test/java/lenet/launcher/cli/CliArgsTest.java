package lenet.launcher.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CliArgsTest {

  @Test
  void trainOptionsBecomeATrainingCommand() {
    CliArgs a =
        CliArgs.parse(
            "train",
            "--epochs",
            "3",
            "--batch-size=64",
            "--learning-rate",
            "5e-4",
            "--optimizer",
            "sgd",
            "--seed",
            "7",
            "--run-id",
            "my-run",
            "--feedback-share",
            "0.2",
            "--json");
    assertThat(a.json()).isTrue();
    assertThat(a.trainingCommand())
        .containsExactly(
            Map.entry("runId", "my-run"),
            Map.entry("epochs", 3L),
            Map.entry("batchSize", 64L),
            Map.entry("learningRate", 5e-4),
            Map.entry("optimizer", "sgd"),
            Map.entry("seed", 7L),
            Map.entry("feedback", Map.of("share", 0.2)));
    assertThat(Json.write(CliArgs.parse("train").trainingCommand())).isEqualTo("{}");
  }

  @Test
  void badNumbersAreNamed() {
    CliArgs a = CliArgs.parse("train", "--epochs", "two");
    assertThatThrownBy(a::trainingCommand).hasMessageContaining("--epochs must be a whole number");
    CliArgs b = CliArgs.parse("train", "--learning-rate", "fast");
    assertThatThrownBy(b::trainingCommand).hasMessageContaining("--learning-rate must be a number");
  }

  @Test
  void predictTakesAFileOrAnId() {
    assertThat(CliArgs.parse("predict", "x.png").word(0)).isEqualTo("x.png");
    assertThat(CliArgs.parse("predict", "--id", "42").number("--id")).contains(42L);
    assertThatThrownBy(() -> CliArgs.parse("predict"))
        .hasMessageContaining("give either a file or --id N")
        .hasMessageContaining("usage: ./pipeline predict");
    assertThatThrownBy(() -> CliArgs.parse("predict", "x.png", "--id", "1"))
        .hasMessageContaining("give either a file or --id N");
  }

  @Test
  void eachCommandTakesOnlyItsOwn() {
    assertThat(CliArgs.parse("pin", "7").word(0)).isEqualTo("7");
    assertThat(CliArgs.parse("cancel", "run-1", "--json").json()).isTrue();
    assertThat(CliArgs.parse("logs", "trainer", "-f", "--tail", "20").flag("-f")).isTrue();
    assertThat(CliArgs.parse("events", "--run", "r1").option("--run")).contains("r1");
    assertThatThrownBy(() -> CliArgs.parse("runs", "--epochs", "2"))
        .hasMessageContaining("unknown option --epochs");
    assertThatThrownBy(() -> CliArgs.parse("pin"))
        .hasMessageContaining("wrong number of arguments");
    assertThatThrownBy(() -> CliArgs.parse("models", "extra"))
        .hasMessageContaining("wrong number of arguments");
    assertThatThrownBy(() -> CliArgs.parse("train", "--epochs"))
        .hasMessageContaining("--epochs needs a value");
    assertThatThrownBy(() -> CliArgs.parse("fly"))
        .hasMessageContaining("unknown command fly")
        .hasMessageContaining("./pipeline train");
  }

  @Test
  void theUsageListsEveryCommand() {
    assertThat(CliArgs.commands())
        .containsExactly(
            "predict", "train", "runs", "cancel", "models", "pin", "follow", "events", "logs");
    for (String c : CliArgs.commands()) {
      assertThat(CliArgs.usage()).contains("./pipeline " + c);
    }
  }
}
