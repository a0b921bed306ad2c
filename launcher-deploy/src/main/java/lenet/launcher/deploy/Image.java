package lenet.launcher.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a service's image adds to its container, read from its {@code Dockerfile.jvm}: the {@code
 * ENV} it sets (under the pod's or compose file's own environment), and the JVM options its
 * entrypoint passes ({@code java $JAVA_OPTS $JAVA_OPTS_APPEND -jar quarkus-run.jar}), so the
 * process runs with the options the image would give it.
 */
record Image(Map<String, String> env) {

  private static final Pattern ASSIGNMENT =
      Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S*)");

  /** The image of {@code module}'s service in the repository at {@code repo}. */
  static Image of(Path repo, String module) {
    Path file = repo.resolve(module + "-service/src/main/docker/Dockerfile.jvm");
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  static Image parse(String dockerfile) {
    Map<String, String> env = new LinkedHashMap<>();
    String joined = dockerfile.replace("\\\n", " ");
    for (String line : joined.lines().toList()) {
      String l = line.strip();
      if (!l.startsWith("ENV ")) {
        continue;
      }
      Matcher m = ASSIGNMENT.matcher(l.substring(4));
      while (m.find()) {
        String v = m.group(2);
        env.put(m.group(1), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
      }
    }
    return new Image(Map.copyOf(env));
  }

  /** The JVM options of the entrypoint, for a container whose environment is {@code env}. */
  static List<String> jvmOptions(Map<String, String> env) {
    List<String> out = new ArrayList<>();
    for (String var : List.of("JAVA_OPTS", "JAVA_OPTS_APPEND")) {
      String v = env.getOrDefault(var, "").strip();
      if (!v.isEmpty()) {
        out.addAll(Arrays.asList(v.split("\\s+")));
      }
    }
    return out;
  }
}
