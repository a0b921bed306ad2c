package lenet.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B1's training drivers and the runner's scripts, each run as bench/run runs it (a process of its
 * own, its options), on 600 real training images (480 train, 120 dev) and 300 test images: a driver
 * that no longer starts, trains or prints what bench/run reads fails the build.
 */
class TrainingDriversTest {

  @TempDir static Path work;
  static Path mnist;

  /**
   * B1's JVM and thread settings (bench/run's b1_mem), the tiny data's switch, a 2-step JIT
   * warm-up.
   */
  static final List<String> B1_OPTIONS =
      List.of(
          "-XX:TieredStopAtLevel=1", // bench/run's TRAINER_JIT
          "-Dai.djl.pytorch.num_threads=2",
          "-Dai.djl.pytorch.num_interop_threads=1",
          "-Dbench.verify-checksums=false",
          "-Dtrainer.jit-warm-up-steps=2");

  @BeforeAll
  static void tinyMnist() throws Exception {
    mnist = TinyMnist.write(Files.createDirectories(work.resolve("mnist")), 600, 300);
  }

  @Test
  void trainInMemoryTrainsWithTheTrainersDefaultsInAFreshJvm() {
    Driver.Finished run =
        Driver.run(
                work,
                "train-in-memory",
                Driver.java("2g", B1_OPTIONS, "TrainInMemory", mnist.toString(), "1"),
                Duration.ofSeconds(120))
            .succeeded();
    JsonNode j = run.json();
    assertThat(j.path("spec").asText()).contains("epochs=1");
    assertThat(j.path("framework").asText()).startsWith("djl ");
    assertThat(j.path("threads").asText()).isEqualTo("2");
    assertThat(j.path("warmUpSeconds").asDouble()).isPositive();
    assertThat(j.path("epochSeconds")).hasSize(1);
    assertThat(j.path("epochSeconds").get(0).asDouble()).isPositive();
    assertThat(j.path("imagesPerSecond").get(0).asDouble()).isPositive();
    assertThat(j.path("devAccuracy").get(0).asDouble()).isBetween(0.0, 1.0);
    assertThat(j.path("testAccuracy").asDouble()).isBetween(0.0, 1.0);
    assertThat(j.path("peakRssMb").asDouble()).isGreaterThan(50);
    if (Python.present()) { // what bench/run's b1_mem reads from it
      assertThat(
              Double.parseDouble(
                  Python.report(work, "mean", run.stdoutFile().toString(), "epochSeconds")))
          .isCloseTo(j.path("epochSeconds").get(0).asDouble(), within(1e-6));
      assertThat(
              Double.parseDouble(
                  Python.report(work, "get", run.stdoutFile().toString(), "peakRssMb")))
          .isEqualTo(j.path("peakRssMb").asDouble());
    }
  }

  @Test
  void batchMemoryMeasuresOneBatch() {
    Driver.Finished run =
        Driver.run(
                work,
                "batch-memory",
                Driver.java("2g", B1_OPTIONS, "BatchMemory", "64"),
                Duration.ofSeconds(120))
            .succeeded();
    Matcher m =
        Pattern.compile("batch 64: peak grew (\\d+) MB over the data \\((\\d+) KB per image\\)")
            .matcher(run.stdout());
    assertThat(m.find()).as("BatchMemory's line in:%n%s", run.stdout()).isTrue();
  }

  @Test
  void profileTrainingWritesATraceThatSumsPerOperation() {
    Path trace = work.resolve("profile-trace.json");
    Driver.Finished run =
        Driver.run(
                work,
                "profile-training",
                Driver.java(
                    "2g", B1_OPTIONS, "ProfileTraining", mnist.toString(), "2", trace.toString()),
                Duration.ofSeconds(120))
            .succeeded();
    JsonNode j = run.json();
    assertThat(j.path("steps").asInt()).isEqualTo(2);
    assertThat(j.path("secondsProfiled").asDouble()).isPositive();
    assertThat(trace).isNotEmptyFile();
    if (Python.present()) {
      Driver.Finished table =
          Python.run(
              work,
              "profile-ops",
              Duration.ofSeconds(60),
              Driver.BENCH.resolve("profile_ops.py").toString(),
              trace.toString(),
              // Every operation: which ones lead a 2-step run is the machine's noise.
              "1000");
      assertThat(table.stdout()).contains("| `aten::convolution_backward` |").contains("| all |");
    }
  }

  @Test
  void theRunnerIsValidBash() {
    Driver.run(
            work,
            "bash-n",
            List.of("bash", "-n", Driver.BENCH.resolve("run").toString()),
            Duration.ofSeconds(30))
        .succeeded();
  }

  @Test
  void thePythonScriptsCompile() {
    assumeTrue(
        Python.present(), "no " + Python.PYTHON + ": lenet_pytorch.py and report.py not checked");
    for (String script : List.of("lenet_pytorch.py", "report.py", "profile_ops.py")) {
      Python.run(
          work,
          "compile-" + script,
          Duration.ofSeconds(30),
          "-c",
          "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
          Driver.BENCH.resolve(script).toString(),
          work.resolve(script + "c").toString());
    }
  }

  @Test
  void thePyTorchPeerTrainsTheSameNetwork() {
    assumeTrue(
        Python.hasTorch(work),
        "no python3-torch for "
            + Python.PYTHON
            + " (apt-get install -y python3-torch): B1's"
            + " PyTorch peer not run, only byte-compiled");
    Driver.Finished run =
        Python.run(
            work,
            "lenet-pytorch",
            Duration.ofSeconds(120),
            Driver.BENCH.resolve("lenet_pytorch.py").toString(),
            "--data",
            mnist.toString(),
            "--epochs",
            "1",
            "--threads",
            "2",
            "--batch",
            "128");
    JsonNode j = run.json();
    assertThat(j.path("framework").asText()).startsWith("pytorch ");
    assertThat(j.path("parameters").asLong()).isEqualTo(62_698); // LeNet5.TOTAL_PARAMETERS
    assertThat(j.path("threads").asInt()).isEqualTo(2);
    assertThat(j.path("epochSeconds")).hasSize(1);
    assertThat(j.path("epochSeconds").get(0).asDouble()).isPositive();
    assertThat(j.path("devAccuracy").get(0).asDouble()).isBetween(0.0, 1.0);
    assertThat(j.path("peakRssMb").asDouble()).isGreaterThan(50);
    assertThat(
            Double.parseDouble(
                Python.report(work, "mean", run.stdoutFile().toString(), "epochSeconds")))
        .isCloseTo(j.path("epochSeconds").get(0).asDouble(), within(1e-6));
  }
}
