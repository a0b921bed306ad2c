package lenet.launcher.deploy;

import java.util.List;
import java.util.Map;

/**
 * One service as a deployment's files run it: a Kubernetes Deployment's container or a compose
 * service that runs a {@code lenet/<module>-service} image. Everything here is read from the files;
 * nothing is filled in from the code.
 *
 * @param name the Deployment's or compose service's name ({@code inference-service}, {@code
 *     inference})
 * @param module {@code ingest}, {@code trainer} or {@code inference}: which packaged service runs
 * @param replicas how many the files ask for (the autoscaler's minimum when one owns the count)
 * @param env the container's environment in the order the runtime applies it (a later entry of the
 *     same name wins)
 * @param port the container port its HTTP server listens on
 * @param probes probe kind ({@code startup}, {@code liveness}, {@code readiness}) to HTTP path
 * @param mounts where volumes are mounted in the container
 * @param memoryLimitMiB the container's memory limit (0: none); the image's JVM takes half of it
 */
public record Workload(
    String name,
    String module,
    int replicas,
    List<EnvVar> env,
    int port,
    Map<String, String> probes,
    List<Mount> mounts,
    long memoryLimitMiB) {

  public Workload {
    env = List.copyOf(env);
    probes = Map.copyOf(probes);
    mounts = List.copyOf(mounts);
  }

  public Workload withReplicas(int count) {
    return new Workload(name, module, count, env, port, probes, mounts, memoryLimitMiB);
  }

  /** One variable: its name and where its value comes from. */
  public record EnvVar(String name, Value value) {}

  /** Where a variable's value comes from. */
  public sealed interface Value {}

  /** Written in the files. */
  public record Literal(String text) implements Value {}

  /** A key of a Secret, resolved when the container starts (missing: it does not start). */
  public record SecretKey(String secret, String key) implements Value {}

  /** A volume mounted at {@code path}. */
  public record Mount(String path, Volume volume, boolean readOnly) {}

  /** What is mounted. */
  public sealed interface Volume {}

  /**
   * A Secret's keys as files: {@code items} maps key to file name (empty: every key under its own
   * name); {@code mode} the files' permission bits.
   */
  public record SecretVolume(String secret, Map<String, String> items, int mode)
      implements Volume {}

  /** An empty folder of the pod's own, kept while the pod lives (a container restart keeps it). */
  public record EmptyDir() implements Volume {}

  /**
   * A volume that outlives pods and is shared by name (a PersistentVolumeClaim, a named volume).
   */
  public record Named(String name) implements Volume {}
}
