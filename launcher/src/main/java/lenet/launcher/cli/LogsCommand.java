package lenet.launcher.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.stream.Stream;

/**
 * {@code ./pipeline logs SERVICE [-f] [--tail N]}: a component's log from the run folder, whole or
 * its last lines, and with {@code -f} followed (from the start again when a restart truncates it).
 */
final class LogsCommand {

  private final Path logs;
  private final PrintStream out;

  LogsCommand(Path logs, PrintStream out) {
    this.logs = logs;
    this.out = out;
  }

  int run(CliArgs a) throws IOException, InterruptedException {
    String name = a.word(0);
    Path file = logs.resolve(name + ".log");
    if (!name.matches("[a-z0-9-]+") || !Files.isRegularFile(file)) {
      throw new CliException("no log " + file + "; there are: " + logNames(), 1);
    }
    long tail = a.number("--tail").orElse(-1L);
    long position = 0;
    if (tail >= 0) {
      Deque<String> last = new ArrayDeque<>();
      try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
        lines.forEach(
            l -> {
              last.add(l);
              if (last.size() > tail) {
                last.removeFirst();
              }
            });
      }
      last.forEach(out::println);
      position = Files.size(file);
    }
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      byte[] buffer = new byte[64 * 1024];
      while (true) {
        if (f.length() < position) { // the log started again (a restart truncates it)
          position = 0;
        }
        f.seek(position);
        int n;
        while ((n = f.read(buffer)) > 0) {
          out.write(buffer, 0, n);
          position += n;
        }
        out.flush();
        if (!a.flag("-f")) {
          return 0;
        }
        Thread.sleep(500);
      }
    }
  }

  private String logNames() throws IOException {
    if (!Files.isDirectory(logs)) {
      return "none (" + logs + " is missing: ./pipeline up)";
    }
    try (Stream<Path> files = Files.list(logs)) {
      return String.join(
          ", ",
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".log"))
              .map(n -> n.substring(0, n.length() - 4))
              .sorted()
              .toList());
    }
  }
}
