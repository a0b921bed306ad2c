package lenet.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Debian's interpreter, which bench/run uses for its PyTorch peer and for report.py, the reader of
 * every driver's output.
 */
final class Python {

  static final Path PYTHON = Path.of("/usr/bin/python3");

  private Python() {}

  static boolean present() {
    return Files.isExecutable(PYTHON);
  }

  /** Whether {@code torch} can be found (python3-torch), without importing it (seconds). */
  static boolean hasTorch(Path work) {
    return present()
        && Driver.run(
                    work,
                    "find-torch",
                    List.of(
                        PYTHON.toString(),
                        "-c",
                        "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"),
                    Duration.ofSeconds(30))
                .exitCode()
            == 0;
  }

  /** {@code python3 args...}, which must succeed. */
  static Driver.Finished run(Path work, String name, Duration timeout, String... args) {
    List<String> command = new ArrayList<>(List.of(PYTHON.toString()));
    command.addAll(Arrays.asList(args));
    return Driver.run(work, name, command, timeout).succeeded();
  }

  /** What {@code report.py COMMAND FILE FIELD...} prints, as bench/run calls it. */
  static String report(Path work, String... args) {
    List<String> all = new ArrayList<>(List.of(Driver.BENCH.resolve("report.py").toString()));
    all.addAll(Arrays.asList(args));
    // Named after the file it reads: tests run at once, each reading its own driver's output.
    String name = "report-" + args[0] + "-" + Path.of(args[1]).getFileName();
    String out = run(work, name, Duration.ofSeconds(30), all.toArray(String[]::new)).stdout();
    assertThat(out).as("report.py %s", all).isNotBlank();
    return out.strip();
  }
}
