package lenet.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import lenet.launcher.cli.Cli;

/**
 * What {@code ./pipeline up [-d] | down | status} does (the script only checks for Java, builds
 * this launcher once, and runs this class): starts the local Kafka and the three services, each
 * under a supervisor of its own ({@code _supervise}: a {@link Supervisor} in a JVM of its own
 * session, so it outlives {@code up} and a Ctrl-C in the terminal), trains a first model and waits
 * until it serves; stops by pid file what {@code up} started; says what runs. {@link PipelineLocks}
 * keeps one {@code up} or {@code down} at a time, and a {@code down} during an {@code up} ends that
 * {@code up} within seconds. Settings: {@link PipelineSettings}. The everyday commands ({@code
 * predict}, {@code train}, {@code models}...) are {@link Cli}'s.
 */
public final class Pipeline {

  private static final Duration STOP_GRACE = Duration.ofSeconds(30);

  private final PipelineSettings settings;
  private final RunDir run;
  private final PipelineLocks locks;
  private final Topology topology;

  /** Given to every supervisor and service: the API token, the signing keys' files. */
  private final Map<String, String> shared = new LinkedHashMap<>();

  private volatile Process build;
  private volatile boolean exiting;
  private String apiToken;
  private String controlKeyFile;

  Pipeline(PipelineSettings settings) {
    this.settings = settings;
    this.run = new RunDir(settings.run());
    this.locks = new PipelineLocks(settings.run());
    this.topology = Topology.of(settings.root());
  }

  public static void main(String[] args) throws Exception {
    String command = args.length > 0 ? args[0] : "";
    if (command.equals("_supervise")) {
      supervise(args);
      return;
    }
    PipelineSettings settings;
    try {
      settings = PipelineSettings.from(Path.of("").toAbsolutePath(), System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("ERROR: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (Cli.handles(command)) {
      System.exit(Cli.run(args, settings, System.out, System.err));
    }
    Pipeline pipeline = new Pipeline(settings);
    try {
      switch (command) {
        case "up" -> pipeline.up(args.length > 1 && args[1].equals("-d"));
        case "down" -> pipeline.down();
        case "status" -> pipeline.status();
        default -> {
          System.out.println("usage: ./pipeline up [-d] | down | status\n" + Cli.usage());
          System.exit(2);
        }
      }
    } catch (Failure e) {
      pipeline.exiting = true;
      System.err.println(e.getMessage());
      System.exit(1);
    }
    pipeline.exiting = true;
    System.exit(0);
  }

  /** Ends a command with a message for the user. */
  private static final class Failure extends RuntimeException {
    Failure(String message) {
      super(message, null, false, false);
    }
  }

  private static Failure die(String message) {
    return new Failure("ERROR: " + message);
  }

  private static void say(String line) {
    System.out.println(Launcher.clock() + " " + line);
  }

  // ------------------------------------------------------------------------------------------ up

  void up(boolean detach) throws IOException, InterruptedException {
    ownerOnlyDirectories(settings.logs());
    if (!locks.tryLock("up")) {
      if (locks.stopRequested() || locks.stoppedSinceStart()) {
        throw die("./pipeline down is stopping the pipeline: run up once it has returned");
      }
      if (locks.holder().filter(h -> h.startsWith("down")).isPresent()) {
        throw die(locks.holderNamed() + " is stopping the pipeline: run up once it has returned");
      }
      throw die(locks.holderNamed() + " is starting the pipeline: see ./pipeline status");
    }
    // A `down` that asked to stop before this `up` had the lock still waits for it, or ran while
    // this `up` was starting its JVM.
    if (locks.stopRequested() || locks.stoppedSinceStart()) {
      throw die("./pipeline down is stopping the pipeline: run up once it has returned");
    }
    if (!detach) { // Ctrl-C stops everything, while starting too
      Runtime.getRuntime().addShutdownHook(new Thread(this::interrupted, "pipeline-ctrl-c"));
    }
    checkPrerequisites();
    buildIfMissing();
    apiToken();
    signingKeys();
    long t0 = System.nanoTime();
    LocalKafka kafka = settings.kafka();
    if (!settings.brokers().isEmpty()) {
      Files.writeString(settings.run().resolve("kafka.brokers"), kafka.brokers() + "\n");
      Files.writeString(settings.run().resolve("kafka.security"), kafka.security() + "\n");
      // All at once: a node is ready only once a quorum of controllers is.
      List<String> nodes = settings.brokers();
      for (int i = 1; i <= nodes.size(); i++) {
        String name = nodes.get(i - 1);
        List<String> jvm = kafka.brokers() == 1 ? List.of() : List.of("-Xmx512m");
        start(topology.kafkaNode(name, kafka, i, jvm, log(name)));
      }
      waitUntil("Kafka on " + settings.bootstrap(), 120, this::kafkaReady);
      say(
          "Kafka ready on "
              + settings.bootstrap()
              + " ("
              + kafka.brokers()
              + " broker(s), "
              + kafka.security()
              + "; data kept in "
              + relative(kafka.dataDir())
              + ")");
      if (kafka.security().equals("plaintext")) {
        say(
            "note: plaintext Kafka trusts every user of this machine: anyone here can read and"
                + " write its topics (signatures keep forged models and decisions from serving; not"
                + " deletions). KAFKA_SECURITY=sasl_ssl gives each service its own user and ACLs"
                + " (SECURITY.md)");
      }
    } else {
      say(
          "using the Kafka at "
              + settings.bootstrap()
              + " (KAFKA_BOOTSTRAP_SERVERS); starting no broker");
    }
    for (String service : PipelineSettings.SERVICES) {
      service(service);
    }
    waitUntil(
        "the services' health",
        180,
        () ->
            PipelineSettings.SERVICES.stream()
                .allMatch(s -> PipelineHttp.get(settings.port(s), "/q/health/live").isPresent()));
    say(
        "services up: ingest :"
            + settings.ingestPort()
            + ", trainer :"
            + settings.trainerPort()
            + ", inference :"
            + settings.inferencePort());
    prometheus();
    // Decide only once the inference service has read the checkpoint and control topics to their
    // end: before that, "no model" means "not read yet".
    int inference = settings.inferencePort();
    waitUntil(
        "the inference service to read the model topics",
        120,
        () ->
            PipelineHttp.field(inference, "/api/models", "caughtUp")
                .filter("true"::equals)
                .isPresent());
    String models = PipelineHttp.get(inference, "/api/models").orElse("");
    // A model counts only when this replica accepted it (rejected checkpoints, e.g. unsigned ones,
    // are listed under "rejected", not "versions").
    if (models.contains("\"versions\":[{")) {
      say(
          "a model from an earlier run is on Kafka (champion v"
              + PipelineHttp.field(models, "champion").filter(c -> !c.isEmpty()).orElse("none")
              + "); not training a first one");
      waitUntil("a model to serve", settings.upTimeoutSeconds(), this::serving);
    } else {
      checkStop(); // a command on Kafka outlives this `up`: none once a stop is requested
      trainFirstModel();
    }
    say("a model serves, " + (System.nanoTime() - t0) / 1_000_000_000 + " s after start");
    summary();
    // Started: a `down` now stops what runs without waiting for this process.
    locks.release();
    if (detach) {
      return;
    }
    say(
        "running; Ctrl-C stops everything (or ./pipeline down from another shell); restarts are logged here");
    follow();
  }

  /**
   * Prometheus beside the services (PROMETHEUS=auto|on|off), scraping their ports, with the
   * pipeline's alerts loaded (monitoring/alerts.yml); data in $PIPELINE_RUN/prometheus.
   */
  private void prometheus() throws IOException, InterruptedException {
    Optional<Path> binary = settings.prometheusBinary();
    if (binary.isEmpty()) {
      if (settings.prometheus().equals("on")) {
        throw die("PROMETHEUS=on but no prometheus on the PATH (apt-get install prometheus)");
      }
      if (settings.prometheus().equals("auto")) {
        say(
            "no prometheus on the PATH: not starting one (apt-get install prometheus; PROMETHEUS=off)");
      }
      return;
    }
    int port = settings.port("prometheus");
    if (settings.prometheus().equals("auto")
        && portBusy(port)
        && run.pid("prometheus").running().isEmpty()) {
      // Debian's package runs a Prometheus of its own on 9090.
      say(
          "port "
              + port
              + " is taken (a Prometheus of this machine's?): not starting one (PROMETHEUS_PORT,"
              + " PROMETHEUS=off)");
      return;
    }
    Map<String, Integer> jobs = new LinkedHashMap<>();
    for (String s : PipelineSettings.SERVICES) {
      jobs.put(s + "-service", settings.port(s));
    }
    LocalPrometheus local =
        new LocalPrometheus(binary.get(), port, settings.run().resolve("prometheus"));
    start(
        local.component(
            "prometheus",
            jobs,
            settings.root().resolve("monitoring/alerts.yml"),
            "15s",
            log("prometheus")));
    say("Prometheus on " + local.url() + " (alerts: monitoring/alerts.yml, docs/monitoring.md)");
  }

  private void trainFirstModel() throws InterruptedException {
    int trainer = settings.trainerPort();
    say(
        "training a first model ("
            + settings.firstRunEpochs()
            + " epochs; progress in "
            + log("trainer")
            + ")");
    String runId =
        PipelineHttp.post(
                trainer, "/api/runs", "{\"epochs\": " + settings.firstRunEpochs() + "}", apiToken)
            .flatMap(body -> PipelineHttp.field(body, "runId"))
            .orElseThrow(
                () -> die("the trainer refused the first training run; see " + log("trainer")));
    waitUntil(
        "run " + runId + " to complete",
        settings.upTimeoutSeconds(),
        () -> {
          String body = PipelineHttp.get(trainer, "/api/runs/" + runId).orElse("");
          String state = PipelineHttp.field(body, "state").orElse("");
          if (state.equals("FAILED")) {
            throw die(
                "the first training run failed: " + PipelineHttp.field(body, "message").orElse(""));
          }
          return state.equals("COMPLETED");
        });
    String done = PipelineHttp.get(trainer, "/api/runs/" + runId).orElse("");
    String version = PipelineHttp.field(done, "modelVersion").orElse("?");
    say(
        "run "
            + runId
            + " completed: model v"
            + version
            + ", test accuracy "
            + PipelineHttp.field(done, "testAccuracy").orElse("?"));
    waitUntil(
        "model v" + version + " to serve",
        120,
        () ->
            PipelineHttp.field(settings.inferencePort(), "/api/models", "serving")
                .filter(version::equals)
                .isPresent());
  }

  private boolean serving() {
    return PipelineHttp.get(settings.inferencePort(), "/v2/models/lenet5/ready").isPresent();
  }

  /** Every broker printed READY since its last start. */
  private boolean kafkaReady() {
    return settings.brokers().stream().allMatch(b -> Readiness.logLine("READY").isReady(log(b)));
  }

  /** Ctrl-C (or SIGTERM) of a foreground `up`: stop everything it started, while starting too. */
  private void interrupted() {
    if (exiting) {
      return;
    }
    System.out.println();
    endBuild();
    locks.release();
    try {
      down();
    } catch (Exception e) {
      System.err.println(e.getMessage());
    }
    Runtime.getRuntime().halt(0);
  }

  /** Restarts are the supervisors' business; this only reports them, and ends after a `down`. */
  private void follow() throws IOException, InterruptedException {
    Path supervisorLog = settings.logs().resolve("supervisor.log");
    long seen = lines(supervisorLog).size();
    while (true) {
      List<String> all = lines(supervisorLog);
      all.stream().skip(seen).forEach(System.out::println);
      seen = all.size();
      if (settings.components().stream().noneMatch(c -> run.supervisor(c).running().isPresent())) {
        say("stopped (./pipeline down)");
        exiting = true;
        return;
      }
      Thread.sleep(2000);
    }
  }

  private static List<String> lines(Path file) throws IOException {
    return Files.exists(file) ? Files.readAllLines(file) : List.of();
  }

  private void checkPrerequisites() {
    Path mnist = settings.root().resolve("data/mnist");
    boolean haveMnist;
    try (Stream<Path> files = Files.exists(mnist) ? Files.list(mnist) : Stream.empty()) {
      haveMnist =
          files.anyMatch(f -> f.getFileName().toString().startsWith("train-images-idx3-ubyte"));
    } catch (IOException e) {
      haveMnist = false;
    }
    if (!haveMnist && !onPath("npm")) {
      throw die(
          "MNIST is not in data/mnist and npm is missing to fetch it: install npm, or put"
              + " train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,"
              + " t10k-labels-idx1-ubyte (raw or .gz) into "
              + mnist);
    }
  }

  private static boolean onPath(String program) {
    return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
        .anyMatch(d -> Files.isExecutable(Path.of(d, program)));
  }

  private void buildIfMissing() throws IOException, InterruptedException {
    boolean missing =
        settings.components().stream().map(this::jarOf).anyMatch(j -> !Files.exists(j));
    if (!missing) {
      return;
    }
    // The build rewrites the jar this JVM runs from: every class is loaded first.
    preloadOwnClasses();
    Path buildLog = settings.logs().resolve("build.log");
    say("Building (first time only, downloads dependencies: a few minutes)... log: " + buildLog);
    build =
        new ProcessBuilder(
                settings.root().resolve("mvnw").toString(),
                "-B",
                "-q",
                "package",
                "-DskipTests",
                "-Dspotless.check.skip=true")
            .directory(settings.root().toFile())
            .redirectErrorStream(true)
            .redirectOutput(buildLog.toFile())
            .start();
    build.getOutputStream().close();
    while (build.isAlive()) {
      checkStop();
      build.waitFor(1, java.util.concurrent.TimeUnit.SECONDS);
    }
    int code = build.exitValue();
    build = null;
    if (code != 0) {
      throw die("the build failed; see " + buildLog);
    }
  }

  private void endBuild() {
    Process b = build;
    if (b != null) {
      b.destroy();
    }
  }

  private static void preloadOwnClasses() throws IOException {
    Path jar;
    try {
      jar = Path.of(Pipeline.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      return;
    }
    if (!Files.isRegularFile(jar)) {
      return;
    }
    try (JarFile file = new JarFile(jar.toFile())) {
      for (String name :
          file.stream()
              .map(e -> e.getName())
              .filter(n -> n.endsWith(".class") && !n.contains("-"))
              .toList()) {
        try {
          Class.forName(
              name.replace('/', '.').replace(".class", ""), false, Pipeline.class.getClassLoader());
        } catch (ClassNotFoundException e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }

  private Path jarOf(String component) {
    return component.startsWith("kafka") ? topology.kafkaJar() : topology.serviceJar(component);
  }

  // ------------------------------------------------------------------------------------ secrets

  /** API_TOKEN if given, else the one kept in the run folder, else a new one (printed once). */
  private void apiToken() throws IOException {
    String given = settings.env().getOrDefault("API_TOKEN", "");
    if (!given.isEmpty()) {
      apiToken = given;
    } else {
      Path file = settings.run().resolve("api-token");
      if (!Files.exists(file) || Files.size(file) == 0) {
        Files.deleteIfExists(file);
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        // A new file, owner-only from its creation (never one that someone else made first).
        Files.createFile(
            file,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, HexFormat.of().formatHex(random), StandardOpenOption.WRITE);
        say(
            "generated the API token for endpoints that change state (pin, follow, runs, ingest): "
                + Files.readString(file));
        say(
            "  kept in "
                + file
                + " (only you can read it); send it as: Authorization: Bearer <token>");
      }
      apiToken = Files.readString(file).trim();
    }
    shared.put("API_TOKEN", apiToken);
  }

  /**
   * The checkpoint signing key (the trainer's) and the public keys inference trusts; the control
   * key (inference's alone: it signs the gate's verdicts and pins, and checks those of every
   * replica). Before any service starts.
   */
  private void signingKeys() throws IOException, InterruptedException {
    Map<String, String> env = settings.env();
    String trainerKey =
        env.getOrDefault(
            "TRAINER_SIGNING_KEY_FILE",
            settings.run().resolve("checkpoint-signing.key").toString());
    String publicKey = keyPair("checkpoint signing key", trainerKey);
    String trusted = env.getOrDefault("INFERENCE_SIGNING_TRUSTED_KEYS", "");
    controlKeyFile =
        env.getOrDefault(
            "INFERENCE_SIGNING_CONTROL_KEY_FILE",
            settings.run().resolve("control-signing.key").toString());
    keyPair("control signing key", controlKeyFile);
    shared.put("TRAINER_SIGNING_KEY_FILE", trainerKey);
    // Trusted: the key's own public key, plus any given (an old key during a rotation).
    shared.put(
        "INFERENCE_SIGNING_TRUSTED_KEYS", (trusted.isEmpty() ? "" : trusted + ",") + publicKey);
  }

  /** The key pair at {@code file}, created once by the contract's own code; its public key. */
  private String keyPair(String what, String file) throws IOException, InterruptedException {
    Path lib = settings.root().resolve("trainer-service/target/quarkus-app/lib/main");
    Path jar;
    try (Stream<Path> jars = Files.list(lib)) {
      jar =
          jars.filter(
                  j -> j.getFileName().toString().startsWith("lenet.pipeline.pipeline-contract-"))
              .findFirst()
              .orElseThrow(() -> die("no pipeline-contract jar in " + lib));
    }
    if (!Files.exists(Path.of(file))) {
      say("generating the " + what + " " + file + " (public key beside it, .pub)");
    }
    Process p =
        new ProcessBuilder(
                "sh",
                "-c",
                "umask 077; exec \"$@\"",
                "sh",
                topology.java().toString(),
                "-cp",
                jar.toString(),
                "lenet.contract.wire.SigningKeys",
                file)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    p.getOutputStream().close();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    }
    if (p.waitFor() != 0 || out.isEmpty()) {
      throw die("cannot create or read the " + what + " " + file);
    }
    return out;
  }

  // ----------------------------------------------------------------------------------- starting

  private void service(String name) throws IOException, InterruptedException {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("KAFKA_BOOTSTRAP_SERVERS", settings.bootstrap());
    env.put("MALLOC_ARENA_MAX", "2");
    // On a secured broker each service is its own Kafka user: its TLS and SCRAM settings (KAFKA_*)
    // in its environment. Its ACLs let no service but the trainer write model.checkpoints:
    // inference's checkpoint retention, which writes tombstones there, is off.
    if (settings.kafka().security().equals("sasl_ssl")) {
      env.putAll(EnvFile.read(settings.kafka().dataDir().resolve("security/" + name + ".env")));
      if (name.equals("inference")) {
        env.put("INFERENCE_RETENTION_KEEP_VERSIONS", "0");
      }
    }
    if (name.equals("inference")) { // the control key is inference's alone
      env.put("INFERENCE_SIGNING_CONTROL_KEY_FILE", controlKeyFile);
    }
    List<String> jvm = new ArrayList<>(List.of("-Xmx2g"));
    jvm.addAll(settings.jvmOptions(name));
    start(topology.service(name, name, settings.port(name), jvm, log(name)).withEnvironment(env));
  }

  /** Starts {@code c} under a supervisor of its own, unless it runs already. */
  private void start(Component c) throws IOException, InterruptedException {
    checkStop();
    String name = c.name();
    Optional<ProcessHandle> supervisor = run.supervisor(name).running();
    if (supervisor.isPresent()) {
      say(
          name
              + " already runs (pid "
              + run.pid(name).pid().map(String::valueOf).orElse("?")
              + ", supervisor "
              + supervisor.get().pid()
              + ")");
      return;
    }
    int port = settings.port(name);
    if (portBusy(port)) {
      String setting = name.startsWith("kafka") ? "KAFKA" : name.toUpperCase();
      throw die(
          "port "
              + port
              + " (for "
              + name
              + ") is taken by another program: stop it or set "
              + setting
              + "_PORT");
    }
    run.restarts(name, 0);
    run.pid(name).delete();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "setsid",
                topology.java().toString(),
                "-Xmx32m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                ownClassPath(),
                Pipeline.class.getName(),
                "_supervise",
                name,
                settings.run().toString(),
                c.log().toString(),
                "--"));
    cmd.addAll(c.command());
    // The supervisor outlives this `up`, in a session of its own (a Ctrl-C here does not reach it).
    ProcessBuilder builder =
        new ProcessBuilder(cmd)
            .directory(settings.root().toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD);
    builder.environment().putAll(shared);
    builder.environment().putAll(c.environment());
    builder.start().getOutputStream().close();
    for (int i = 0; i < 50 && run.pid(name).pid().isEmpty(); i++) {
      checkStop();
      Thread.sleep(100);
    }
    say(
        "started "
            + name
            + " (pid "
            + run.pid(name).pid().map(String::valueOf).orElse("?")
            + ", port "
            + port
            + ", log "
            + c.log()
            + ")");
  }

  /** {@code _supervise NAME RUN LOG -- COMMAND...}: runs until a `down` asks everything to stop. */
  private static void supervise(String[] args) throws InterruptedException, IOException {
    // It runs for days, while the jar it came from may be rebuilt: every class is loaded now.
    preloadOwnClasses();
    String name = args[1];
    Path runDir = Path.of(args[2]);
    Path log = Path.of(args[3]);
    List<String> command = List.of(args).subList(5, args.length);
    PipelineLocks locks = new PipelineLocks(runDir);
    new Supervisor(
            Component.of(name, log, command),
            new RunDir(runDir),
            runDir.resolve("logs/supervisor.log"),
            locks::stopRequested,
            Backoff.PIPELINE)
        .run();
  }

  private static String ownClassPath() {
    try {
      return Path.of(Pipeline.class.getProtectionDomain().getCodeSource().getLocation().toURI())
          .toString();
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean portBusy(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Ends a starting `up` when a `down` asks everything to stop; that `down` stops what it started.
   */
  private void checkStop() {
    if (locks.stopRequested()) {
      endBuild();
      throw new Failure(
          Launcher.clock()
              + " stopped while starting: ./pipeline down runs (it stops what this up started)");
    }
  }

  /**
   * Waits until {@code ready}, at most {@code seconds}; fails early when a supervisor is gone or a
   * component keeps exiting (3 restarts), showing the end of its log.
   */
  private void waitUntil(String what, int seconds, BooleanSupplier ready)
      throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (true) {
      checkStop();
      if (ready.getAsBoolean()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw die(
            "timed out after "
                + seconds
                + "s waiting for "
                + what
                + " (see "
                + settings.logs()
                + ")");
      }
      for (String c : settings.components()) {
        if (!Files.exists(run.supervisor(c).path())) {
          continue;
        }
        if (run.supervisor(c).running().isEmpty()) {
          throw die("the supervisor of " + c + " is gone (./pipeline down?)");
        }
        if (run.restarts(c) >= 3) {
          throw die(
              c
                  + " keeps exiting ("
                  + run.restarts(c)
                  + " restarts); last lines of "
                  + log(c)
                  + ":\n"
                  + tail(log(c), 15));
        }
      }
      Thread.sleep(1000);
    }
  }

  private static String tail(Path file, int n) {
    try {
      List<String> all = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
      return String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
    } catch (IOException e) {
      return "";
    }
  }

  private Path log(String component) {
    return settings.logs().resolve(component + ".log");
  }

  private String relative(Path p) {
    Path root = settings.root();
    return p.startsWith(root) ? root.relativize(p).toString() : p.toString();
  }

  private void summary() throws IOException, InterruptedException {
    int inference = settings.inferencePort();
    String serving = PipelineHttp.field(inference, "/api/models", "serving").orElse("");
    LocalKafka kafka = settings.kafka();
    boolean secured = kafka.security().equals("sasl_ssl");
    Path security = kafka.dataDir().resolve("security");
    System.out.printf(
        "%n  Inference  http://127.0.0.1:%d/   (POST /api/predict, /v2/models/lenet5/infer, GET /api/models)%n"
            + "  Trainer    http://127.0.0.1:%d/   (GET /api/runs, POST /api/runs)%n"
            + "  API token  in %s: what the pages ask for, and what changes state over HTTP needs%n"
            + "  Ingest     http://127.0.0.1:%d/   (GET /api/datasets/mnist)%n"
            + "  Kafka      %s (%s%s)%n"
            + "  Serving    model version %s%n%n",
        inference,
        settings.trainerPort(),
        settings.run().resolve("api-token"),
        settings.ingestPort(),
        settings.bootstrap(),
        kafka.security(),
        secured ? "; client settings: " + security.resolve("client.properties") : "",
        serving);
    System.out.flush();
    new ProcessBuilder(
            topology.java().toString(),
            settings.root().resolve("scripts/SamplePrediction.java").toString(),
            settings.root().resolve("data/mnist").toString(),
            "http://127.0.0.1:" + inference)
        .inheritIO()
        .start()
        .waitFor();
    String bootstrap = settings.bootstrap();
    StringBuilder text = new StringBuilder();
    text.append(
            "\n  Retrain (the new model serves, without a restart, once the gate finds it"
                + " no worse than the champion):\n")
        .append(
            "    ./pipeline train --epochs 3       # a progress bar, then the gate's verdict;"
                + " ./pipeline models, predict FILE.png, ...\n")
        .append("  or from any Kafka client:\n")
        .append("    echo '{\"epochs\": 3}' | kcat -P -b ")
        .append(bootstrap)
        .append(" -t training.commands\n")
        .append("    kcat -C -b ")
        .append(bootstrap)
        .append(" -t training.events -o end        # watch progress\n");
    if (secured) {
      text.append(
              "    (on this broker as user client, which may write digits.images and"
                  + " training.commands and read the outputs:\n     TLS and SCRAM-SHA-512, see ")
          .append(security.resolve("client.properties"))
          .append(
              "; kcat needs librdkafka 2.6.1 or newer\n     for SCRAM with Kafka 4, Debian 12's"
                  + " 2.0.2 fails: -X security.protocol=SASL_SSL -X sasl.mechanisms=SCRAM-SHA-512\n"
                  + "     -X sasl.username=client -X sasl.password=... -X ssl.ca.location=")
          .append(security.resolve("ca.pem"))
          .append(")\n");
    }
    text.append("  or: curl -H 'Content-Type: application/json' -H \"Authorization: Bearer $(cat ")
        .append(settings.run().resolve("api-token"))
        .append(")\" \\\n        -d '{\"epochs\": 3}' http://127.0.0.1:")
        .append(settings.trainerPort())
        .append("/api/runs\n");
    System.out.print(text);
  }

  // ---------------------------------------------------------------------------------------- down

  /**
   * Stops what `up` started (by pid file, nothing else), services first, then the brokers together
   * (a node shuts down cleanly only while a quorum of controllers is there to hear it).
   */
  void down() throws IOException, InterruptedException {
    ownerOnlyDirectories(settings.run());
    // The stop request first: a starting `up` ends within seconds, supervisors restart nothing.
    // One `down` at a time: a second waits for the first, then finds nothing left.
    locks.requestStop();
    if (!locks.tryLock("down")) {
      say("waiting for " + locks.holderNamed() + " to end (a starting up ends within seconds)");
      if (!locks.lock("down", 60)) {
        throw die(
            locks.holderNamed()
                + " did not end within 60 s ("
                + settings.run().resolve("pipeline.lock")
                + "): stop it, then run down again");
      }
    }
    try {
      Stopper stopper = new Stopper(run, STOP_GRACE, System.out);
      stopper.stop(List.of("prometheus"));
      for (String service : List.of("inference", "trainer", "ingest")) {
        stopper.stop(List.of(service));
      }
      stopper.stop(settings.kafka().nodeNames());
    } finally {
      locks.release();
    }
  }

  // -------------------------------------------------------------------------------------- status

  void status() {
    if (locks.stopRequested()) {
      System.out.println("stopping   ./pipeline down is stopping the pipeline");
    } else if (locks.holder().isPresent()) {
      System.out.printf("starting   %s is starting the pipeline%n", locks.holderNamed());
    }
    List<String> shown = new ArrayList<>(settings.components());
    if (settings.prometheusBinary().isPresent()) {
      shown.add("prometheus");
    }
    for (String c : shown) {
      switch (run.state(c)) {
        case RUNNING ->
            System.out.printf(
                "%-10s running  pid %-8s port %-6s restarts %d%n",
                c, run.pid(c).pid().orElse(-1L), settings.port(c), run.restarts(c));
        case RESTARTING ->
            System.out.printf(
                "%-10s restarting (restarts %d; see %s)%n",
                c, run.restarts(c), settings.logs().resolve("supervisor.log"));
        case STOPPED -> System.out.printf("%-10s stopped%n", c);
      }
    }
    if (run.state("inference") == RunDir.State.RUNNING) {
      System.out.printf(
          "serving    model version %s%n",
          PipelineHttp.field(settings.inferencePort(), "/api/models", "serving").orElse(""));
    }
  }

  /**
   * Creates {@code dir} (and its parents) readable by the user alone when new: it holds secrets.
   */
  private static void ownerOnlyDirectories(Path dir) {
    try {
      Path parent = dir.toAbsolutePath().getParent();
      if (parent != null && !Files.exists(parent)) {
        ownerOnlyDirectories(parent);
      }
      if (!Files.exists(dir)) {
        Files.createDirectory(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
