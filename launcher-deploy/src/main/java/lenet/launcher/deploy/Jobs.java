package lenet.launcher.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a deployment's one-shot {@link Deployment.Job}s (compose's topic creation and key making) as
 * the engine would, their script unchanged but for where things are on this machine: a mounted
 * volume's path is its local folder; an image's own files are the repository's ({@code
 * /deployments} of a {@code lenet/<module>-service} image is that service's {@code
 * target/quarkus-app}; {@code /opt/kafka/bin/kafka-topics.sh} of the {@code apache/kafka} image
 * runs Kafka's own {@code TopicCommand}); a Kafka address of the files is the local node's. A job
 * that does not end with 0 within three minutes fails the boot, with its log named.
 */
final class Jobs {

  private static final Pattern LENET_IMAGE = Pattern.compile("^lenet/([a-z]+)-service(:.*)?$");

  private Jobs() {}

  static void run(
      Deployment.Job job,
      Path repo,
      Path root,
      Function<String, Path> volume,
      Map<String, String> addresses) {
    Map<String, String> paths = new LinkedHashMap<>();
    for (Workload.Mount m : job.mounts()) {
      if (!(m.volume() instanceof Workload.Named n)) {
        throw new IllegalArgumentException(job.name() + ": only named volumes are run locally");
      }
      paths.put(m.path(), volume.apply(n.name()).toAbsolutePath().toString());
    }
    Matcher lenet = LENET_IMAGE.matcher(job.image());
    if (lenet.matches()) {
      paths.put(
          "/deployments",
          repo.resolve(lenet.group(1) + "-service/target/quarkus-app").toAbsolutePath().toString());
    } else if (job.image().startsWith("apache/kafka:")) {
      paths.put("/opt/kafka/bin", kafkaTools(root).toString());
    }
    String script = job.script();
    for (String path :
        paths.keySet().stream().sorted(Comparator.comparing(String::length).reversed()).toList()) {
      script = script.replace(path, paths.get(path));
    }
    for (Map.Entry<String, String> a : addresses.entrySet()) {
      script =
          script.replaceAll(
              "(?<![\\w.-])" + Pattern.quote(a.getKey()) + "(?![\\w.-])", a.getValue());
    }
    Path log = root.resolve("logs").resolve(job.name() + ".log");
    try {
      Files.createDirectories(log.getParent());
      Process p =
          new ProcessBuilder("bash", "-ec", script)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      p.getOutputStream().close();
      if (!p.waitFor(3, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "job " + job.name() + " did not end within 3 minutes; see " + log);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            "job " + job.name() + " exited with " + p.exitValue() + "; see " + log);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run job " + job.name(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running job " + job.name(), e);
    }
  }

  /** {@code kafka-topics.sh} as a script that runs Kafka's TopicCommand from this classpath. */
  private static Path kafkaTools(Path root) {
    Path bin = root.resolve("kafka-bin").toAbsolutePath();
    try {
      Files.createDirectories(bin);
      Path topics = bin.resolve("kafka-topics.sh");
      Files.writeString(
          topics,
          "#!/bin/sh\nexec '"
              + Path.of(System.getProperty("java.home"), "bin", "java")
              + "' -Xmx256m -cp '"
              + System.getProperty("java.class.path")
              + "' org.apache.kafka.tools.TopicCommand \"$@\"\n");
      Files.setPosixFilePermissions(topics, PosixFilePermissions.fromString("rwxr-xr-x"));
      return bin;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
