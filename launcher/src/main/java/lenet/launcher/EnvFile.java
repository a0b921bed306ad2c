package lenet.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a service's Kafka user settings as local-kafka writes them for the secured broker ({@code
 * <data>/security/<user>.env}): {@code KEY='value'} lines, single quotes escaped as {@code '\''},
 * comments after {@code #}. The same file a shell can {@code source}.
 */
final class EnvFile {

  private EnvFile() {}

  static Map<String, String> read(Path file) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq < 1) {
        throw new IOException("not KEY='value' in " + file + ": " + line);
      }
      env.put(line.substring(0, eq), unquote(line.substring(eq + 1)));
    }
    return env;
  }

  /** Shell words made of single-quoted parts and {@code \'} between them. */
  static String unquote(String shell) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < shell.length()) {
      char c = shell.charAt(i);
      if (c == '\'') {
        int end = shell.indexOf('\'', i + 1);
        if (end < 0) {
          throw new IllegalArgumentException("unclosed quote: " + shell);
        }
        out.append(shell, i + 1, end);
        i = end + 1;
      } else if (c == '\\' && i + 1 < shell.length()) {
        out.append(shell.charAt(i + 1));
        i += 2;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }
}
