package lenet.launcher;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The local topology's components as built in this repository: a Kafka node from {@code
 * local-kafka/target/local-kafka.jar} (alone, one of a KRaft cluster, or the SASL_SSL broker),
 * ready once it prints {@code READY}; and a service as {@code java -jar
 * <service>-service/target/quarkus-app/quarkus-run.jar}, ready once {@code /q/health/live} answers.
 * {@code ./pipeline}, {@code bench/run}, {@code faults/run} and the end-to-end tests all build
 * their processes here, each adding its own JVM options and environment.
 */
public record Topology(Path repo, Path java) {

  /** The repository at {@code repo}, run with this JVM's {@code java}. */
  public static Topology of(Path repo) {
    return new Topology(repo, Path.of(System.getProperty("java.home"), "bin", "java"));
  }

  public Path kafkaJar() {
    return repo.resolve("local-kafka/target/local-kafka.jar").toAbsolutePath();
  }

  /** {@code service} is {@code ingest}, {@code trainer} or {@code inference}. */
  public Path serviceJar(String service) {
    return repo.resolve(service + "-service/target/quarkus-app/quarkus-run.jar").toAbsolutePath();
  }

  /**
   * Node {@code node} (1..) of {@code kafka}, named {@code name}; with one broker, the broker
   * itself ({@code --security} as {@code kafka} says).
   */
  public Component kafkaNode(
      String name, LocalKafka kafka, int node, List<String> jvmOptions, Path log) {
    return kafkaNode(name, kafka, node, jvmOptions, log, List.of());
  }

  /**
   * As {@link #kafkaNode(String, LocalKafka, int, List, Path)}, with more of local-kafka's options
   * ({@code --security}, {@code --access}, {@code --config}: a cluster set up as a deployment's
   * files say).
   */
  public Component kafkaNode(
      String name,
      LocalKafka kafka,
      int node,
      List<String> jvmOptions,
      Path log,
      List<String> nodeOptions) {
    List<String> cmd = new ArrayList<>(List.of(java.toString()));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-jar", kafkaJar().toString()));
    if (kafka.brokers() > 1) {
      cmd.addAll(List.of("--brokers", "" + kafka.brokers(), "--node", "" + node));
    }
    cmd.addAll(List.of("--port", "" + kafka.port(), "--data-dir", kafka.dataDir().toString()));
    if (kafka.brokers() == 1) {
      cmd.addAll(List.of("--security", kafka.security()));
    }
    cmd.addAll(nodeOptions);
    return Component.of(name, log, cmd).readyWhen(Readiness.logLine("READY"));
  }

  /**
   * {@code service}'s packaged application as process {@code name}, its HTTP on {@code port}
   * (127.0.0.1), {@code jvmOptions} after the port (a later {@code -D} wins).
   */
  public Component service(
      String name, String service, int port, List<String> jvmOptions, Path log) {
    List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Dquarkus.http.port=" + port));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-jar", serviceJar(service).toString()));
    return Component.of(name, log, cmd)
        .readyWhen(Readiness.http(URI.create("http://127.0.0.1:" + port + "/q/health/live")));
  }
}
