package lenet.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code ./pipeline}'s settings, read from its environment as its header documents them (ports, the
 * Kafka to start or use, the run folder, the first run's epochs, the services' extra JVM options).
 * The broker count and security an {@code up} started with are remembered in the run folder ({@code
 * kafka.brokers}, {@code kafka.security}), so later commands use them unless told otherwise.
 */
public record PipelineSettings(
    Path root,
    Path run,
    LocalKafka kafka,
    Optional<String> ownBootstrap,
    int ingestPort,
    int trainerPort,
    int inferencePort,
    int firstRunEpochs,
    int upTimeoutSeconds,
    Map<String, String> env) {

  public static PipelineSettings from(Path root, Map<String, String> env) throws IOException {
    Path run = Path.of(env.getOrDefault("PIPELINE_RUN", root.resolve("run").toString()));
    String brokersText = setting(env, "KAFKA_BROKERS", remembered(run, "kafka.brokers", "1"));
    if (!brokersText.matches("[1-9]")) {
      throw new IllegalArgumentException("KAFKA_BROKERS must be 1..9, not " + brokersText);
    }
    int brokers = Integer.parseInt(brokersText);
    String security =
        setting(env, "KAFKA_SECURITY", remembered(run, "kafka.security", "plaintext"));
    String defaultData =
        security.equals("sasl_ssl")
            ? "data/kafka-secure"
            : brokers == 1 ? "data/kafka" : "data/kafka-cluster";
    Path data = Path.of(setting(env, "KAFKA_DATA", root.resolve(defaultData).toString()));
    LocalKafka kafka =
        new LocalKafka(brokers, number(env, "KAFKA_PORT", 9092), data.toAbsolutePath(), security);
    return new PipelineSettings(
        root,
        run.toAbsolutePath(),
        kafka,
        Optional.ofNullable(env.get("KAFKA_BOOTSTRAP_SERVERS")).filter(s -> !s.isEmpty()),
        number(env, "INGEST_PORT", 8081),
        number(env, "TRAINER_PORT", 8082),
        number(env, "INFERENCE_PORT", 8080),
        number(env, "FIRST_RUN_EPOCHS", 5),
        number(env, "UP_TIMEOUT", 600),
        Map.copyOf(env));
  }

  public Path logs() {
    return run.resolve("logs");
  }

  /** Where the services find Kafka: the one given, else the local one's nodes. */
  public String bootstrap() {
    return ownBootstrap.orElse(kafka.bootstrapServers());
  }

  /** The Kafka nodes {@code up} starts: none when a Kafka of the user's own is given. */
  public List<String> brokers() {
    return ownBootstrap.isPresent() ? List.of() : kafka.nodeNames();
  }

  public static final List<String> SERVICES = List.of("ingest", "trainer", "inference");

  /** Every component {@code up} starts, brokers first (and Prometheus, see {@link #prometheus}). */
  public List<String> components() {
    List<String> all = new ArrayList<>(brokers());
    all.addAll(SERVICES);
    return all;
  }

  /**
   * {@code PROMETHEUS}: {@code auto} (the default: start Prometheus beside the services when {@code
   * prometheus} is on the PATH), {@code on} (fail without it) or {@code off}.
   */
  public String prometheus() {
    String mode = setting(env, "PROMETHEUS", "auto");
    if (!List.of("auto", "on", "off").contains(mode)) {
      throw new IllegalArgumentException("PROMETHEUS must be auto, on or off, not " + mode);
    }
    return mode;
  }

  /** The Prometheus to start: none when {@code PROMETHEUS=off} or none is installed. */
  public Optional<Path> prometheusBinary() {
    return prometheus().equals("off") ? Optional.empty() : LocalPrometheus.onPath();
  }

  public int port(String component) {
    return switch (component) {
      case "ingest" -> ingestPort;
      case "trainer" -> trainerPort;
      case "inference" -> inferencePort;
      case "kafka" -> kafka.port();
      case "prometheus" -> number(env, "PROMETHEUS_PORT", 9090);
      default -> kafka.port(Integer.parseInt(component.substring("kafka-".length())));
    };
  }

  /**
   * The trainer's JVM compiles with C1 only. Its hot loop is libtorch's: Java is under 1% of a
   * training step, and C1's code runs a step as fast as C2's. C2 instead spent 8-12% of a core
   * compiling during the first epochs, and on a machine whose cores all run OpenMP's threads, each
   * of its bursts stalls the whole team. The cost: no SHA-256 intrinsic, so the dataset's checksum
   * (once per trainer process) takes ~2 s longer. A CUDA trainer should not have it (the GPU image
   * does not): there the step's Java is a larger share. A later {@code -XX:TieredStopAtLevel=4} in
   * {@code TRAINER_OPTS} undoes it.
   */
  static final List<String> TRAINER_JIT = List.of("-XX:TieredStopAtLevel=1");

  /**
   * The service's own JVM options ({@link #TRAINER_JIT} for the trainer), then {@code INGEST_OPTS},
   * {@code TRAINER_OPTS} or {@code INFERENCE_OPTS}, split into words.
   */
  public List<String> jvmOptions(String service) {
    List<String> options = new ArrayList<>(service.equals("trainer") ? TRAINER_JIT : List.of());
    String opts = env.getOrDefault(service.toUpperCase() + "_OPTS", "").trim();
    if (!opts.isEmpty()) {
      options.addAll(Arrays.asList(opts.split("\\s+")));
    }
    return List.copyOf(options);
  }

  private static String setting(Map<String, String> env, String key, String otherwise) {
    String v = env.get(key);
    return v == null || v.isEmpty() ? otherwise : v;
  }

  private static int number(Map<String, String> env, String key, int otherwise) {
    String v = setting(env, key, "" + otherwise);
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, not " + v);
    }
  }

  private static String remembered(Path run, String file, String otherwise) throws IOException {
    Path f = run.resolve(file);
    return Files.exists(f) ? Files.readString(f).trim() : otherwise;
  }
}
