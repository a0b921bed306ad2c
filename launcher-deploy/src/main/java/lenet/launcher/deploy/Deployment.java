package lenet.launcher.deploy;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a deployment's files describe, read from them: the Kafka cluster, the services, the Secrets
 * the files themselves hold, the one-shot jobs that run before the services (compose), and the
 * consumer-lag scaler (KEDA) where there is one.
 *
 * @param source what was read (an overlay's folder, a compose file)
 * @param secrets Secrets declared in the files: name to key to value
 * @param jobs one-shot containers that must end well before the services start
 * @param lagScaler KEDA's Kafka trigger, if the files scale on consumer lag
 */
public record Deployment(
    String source,
    KafkaShape kafka,
    List<Workload> workloads,
    Map<String, Map<String, String>> secrets,
    List<Job> jobs,
    Optional<LagScaler> lagScaler) {

  public Deployment {
    workloads = List.copyOf(workloads);
    secrets = Map.copyOf(secrets);
    jobs = List.copyOf(jobs);
  }

  /** The workload named {@code name}. */
  public Workload workload(String name) {
    return workloads.stream()
        .filter(w -> w.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException(source + " has no workload " + name));
  }

  /**
   * The one workload running {@code module} ({@code ingest}, {@code trainer}, {@code inference}).
   */
  public Workload module(String module) {
    return workloads.stream()
        .filter(w -> w.module().equals(module))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException(source + " runs no " + module));
  }

  /**
   * A one-shot container: its shell script ({@code bash -ec}), the image it runs ({@code
   * apache/kafka:...} or a {@code lenet/<module>-service} image) and its mounts.
   */
  public record Job(String name, String image, String script, List<Workload.Mount> mounts) {}

  /**
   * KEDA's Kafka trigger: the lag of {@code consumerGroup} on {@code topic}, read as the user whose
   * name and password the trigger's authentication names, one replica per {@code lagThreshold},
   * between {@code minReplicas} and {@code maxReplicas}; a partition the group never committed on
   * counts as {@code offsetResetPolicy} says.
   */
  public record LagScaler(
      String workload,
      String consumerGroup,
      String topic,
      long lagThreshold,
      String offsetResetPolicy,
      boolean allowIdleConsumers,
      int minReplicas,
      int maxReplicas,
      String user,
      String passwordSecret,
      String passwordKey) {}
}
