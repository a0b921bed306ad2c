package lenet.launcher.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code deploy/boot}: a deployment's files booted as local processes ({@link LocalDeployment}) for
 * a person to try them: {@code k8s <overlay>} (rendered with kubectl kustomize) or {@code compose
 * <file>} (resolved with docker-compose config, this shell's variables passed to it), fresh each
 * time in {@code data/deploy-boot/<k8s|compose>}, the MNIST files of {@code data/mnist} copied into
 * the files' MNIST volume; prints where each pod answers, then runs until Ctrl-C or SIGTERM and
 * stops everything it started.
 */
public final class Boot {

  private Boot() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2 || !(args[0].equals("k8s") || args[0].equals("compose"))) {
      System.err.println(
          "usage: deploy/boot k8s <overlay dir> [inference replicas] | compose <file> [inference"
              + " replicas]");
      System.exit(2);
    }
    Path repo = Path.of("").toAbsolutePath();
    boolean k8s = args[0].equals("k8s");
    Deployment files =
        k8s
            ? KubernetesFiles.render(Path.of(args[1]))
            : ComposeFile.render(Path.of(args[1]), System.getenv());
    int replicas = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    Path root = repo.resolve("data/deploy-boot").resolve(args[0]);
    Map<String, Path> volumes = new LinkedHashMap<>();
    Path mnist = repo.resolve("data/mnist");
    if (Files.isDirectory(mnist)) {
      files.module("ingest").mounts().stream()
          .filter(m -> m.volume() instanceof Workload.Named)
          .forEach(m -> volumes.put(((Workload.Named) m.volume()).name(), mnist));
    }
    System.out.println(
        "Booting " + files.source() + " in " + root + " (logs in " + root.resolve("logs") + ")");
    LocalDeployment d =
        LocalDeployment.boot(
            files,
            new LocalDeployment.Options(
                repo, root, Map.of(files.module("inference").name(), replicas), Map.of(), volumes));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("Stopping what deploy/boot started");
                  d.close();
                  stopped.countDown();
                }));
    d.awaitStarted(Duration.ofMinutes(5));
    System.out.println(
        "Kafka: "
            + d.bootstrapServers()
            + (files.kafka().secured()
                ? " (SASL_SSL; admin settings: "
                    + root.resolve("kafka/security/admin.properties")
                    + ")"
                : ""));
    for (Workload w : files.workloads()) {
      for (Pod p : d.pods(w.name())) {
        System.out.println(p.name() + ": http://127.0.0.1:" + p.port() + " (pid " + p.pid() + ")");
      }
    }
    System.out.println(
        "API token: "
            + d.pods(files.module("trainer").name())
                .get(0)
                .environment()
                .getOrDefault("API_TOKEN", "(none)"));
    System.out.println("Running; Ctrl-C stops everything.");
    stopped.await();
  }
}
