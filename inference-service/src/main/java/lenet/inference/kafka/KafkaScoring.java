package lenet.inference.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.inference.config.InferenceConfig;
import lenet.inference.model.ModelManager;
import lenet.inference.scoring.Scorer;
import lenet.support.kafka.KafkaConnection;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Scores {@code digits.images} with {@code inference.kafka.workers} workers ({@link
 * ScoringWorker}), started once the first model serves, so no event waits for a model and none is
 * dead-lettered for lack of one. Keeps what health and metrics report: batches written and aborted,
 * the last failure, and whether every worker still runs.
 */
@ApplicationScoped
public class KafkaScoring implements ScoringWorker.Listener {

  private static final Logger LOG = Logger.getLogger(KafkaScoring.class);

  /** What the workers have done lately, for the health data. */
  public record Status(
      int workers,
      int alive,
      InferenceConfig.Delivery delivery,
      Instant lastWritten,
      Instant failingSince,
      String lastFailure) {}

  private final ModelManager models;
  private final ScoringWorker.Settings settings;
  private final BatchScorer scorer;
  private final int workerCount;
  private final Counter written;
  private final Counter aborted;
  private final Counter events;
  private final Counter revived;
  private final ConsumerLag lag;
  private ScheduledExecutorService revive;
  private final List<ScoringWorker> workers = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopping;
  private volatile Instant lastWritten;
  private volatile Instant failingSince;
  private volatile String lastFailure;

  /**
   * @param tracingOff `true` (the default): tracing is off, the OpenTelemetry API a no-op. `false`
   *     turns it on: spans go over OTLP to `quarkus.otel.exporter.otlp.endpoint`, and the trace
   *     context travels in `traceparent` headers of the Kafka records (docs/tracing.md)
   */
  KafkaScoring(
      ModelManager models,
      Scorer scorer,
      InferenceConfig config,
      MeterRegistry registry,
      Config mpConfig,
      KafkaConnection kafka,
      OpenTelemetry otel,
      @ConfigProperty(name = "quarkus.otel.sdk.disabled", defaultValue = "true") boolean tracingOff,
      @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int httpPort) {
    this.models = models;
    Topics topics = Topics.from(mpConfig);
    InferenceConfig.KafkaScoring k = config.kafka();
    this.settings =
        new ScoringWorker.Settings(
            kafka,
            topics.name(Topic.DIGITS_IMAGES),
            k.groupId(),
            k.delivery(),
            k.maxPollRecords(),
            k.transactionalIdPrefix().orElseGet(() -> defaultPrefix(httpPort)),
            k.transactionTimeout(),
            k.sendTimeout(),
            k.maxBackoff());
    this.scorer =
        new BatchScorer(
            scorer,
            new ScoringOutputs(topics, registry),
            config,
            registry,
            tracingOff
                ? BatchTracing.OFF
                : new BatchTracing(otel.getTracer("lenet.inference.kafka")));
    this.workerCount = Math.max(1, k.workers());
    this.written =
        Counter.builder("inference.kafka.batches")
            .tag("outcome", "written")
            .description("Image event batches whose outputs (and offsets) Kafka took")
            .register(registry);
    this.aborted =
        Counter.builder("inference.kafka.batches")
            .tag("outcome", "aborted")
            .description("Batches not written (broker away, fenced, timed out): read again")
            .register(registry);
    this.events =
        Counter.builder("inference.kafka.events")
            .description("Image events answered (a prediction or a dead letter) and committed")
            .register(registry);
    this.revived =
        Counter.builder("inference.kafka.worker.restarts")
            .description("Scoring workers that had ended and were started again")
            .register(registry);
    registry.gauge("inference.kafka.workers.alive", this, s -> s.status().alive());
    Gauge.builder("inference.kafka.workers", this, s -> s.status().workers())
        .description(
            "Scoring workers that should run: inference.kafka.workers once a model serves, else 0")
        .register(registry);
    this.lag = new ConsumerLag(registry);
  }

  void onStart(@Observes StartupEvent event) {
    models.firstModel().thenRun(this::startWorkers);
  }

  void onStop(@Observes ShutdownEvent event) throws InterruptedException {
    List<Thread> started;
    synchronized (this) {
      stopping = true;
      if (revive != null) {
        revive.shutdownNow();
      }
      workers.forEach(ScoringWorker::stop);
      started = threads.stream().filter(java.util.Objects::nonNull).toList();
    }
    for (Thread t : started) {
      t.join(settings.sendTimeout().toMillis() + 5_000);
    }
  }

  private synchronized void startWorkers() {
    if (stopping || !threads.isEmpty()) {
      return;
    }
    for (int i = 0; i < workerCount; i++) {
      workers.add(null);
      threads.add(null);
      startWorker(i);
    }
    revive =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "kafka-scoring-revive");
              t.setDaemon(true);
              return t;
            });
    revive.scheduleWithFixedDelay(this::reviveDeadWorkers, 5, 5, TimeUnit.SECONDS);
    LOG.infof(
        "A model serves: scoring '%s' with %d worker(s), %s (group %s, transactional ids %s-w<n>)",
        settings.topic(),
        workerCount,
        settings.delivery().name().toLowerCase().replace('_', '-'),
        settings.groupId(),
        settings.transactionalIdPrefix());
  }

  private void startWorker(int i) {
    ScoringWorker w = new ScoringWorker(i, settings, scorer, this, lag);
    Thread t = new Thread(w, "kafka-scoring-" + i);
    t.setDaemon(true);
    workers.set(i, w);
    threads.set(i, t);
    t.start();
  }

  /**
   * A worker's loop survives every Kafka failure; one that ended all the same (an Error such as
   * running out of memory, or a bug) is started again here, so the process mends itself rather than
   * waiting for an orchestrator that may not restart unhealthy processes (docker compose).
   */
  private synchronized void reviveDeadWorkers() {
    for (int i = 0; i < threads.size(); i++) {
      if (!stopping && !threads.get(i).isAlive()) {
        revived.increment();
        LOG.errorf("Scoring worker %d had ended; starting it again", i);
        startWorker(i);
      }
    }
  }

  @Override
  public void written(int worker, int records) {
    written.increment();
    events.increment(records);
    lastWritten = Instant.now();
    if (failingSince != null) {
      LOG.infof("Scoring worker %d writes again (failing since %s)", worker, failingSince);
      failingSince = null;
    }
  }

  @Override
  public void aborted(int worker, int records, Exception cause) {
    if (records > 0) {
      aborted.increment();
    }
    if (failingSince == null) {
      failingSince = Instant.now();
    }
    lastFailure = cause.toString();
  }

  /** Workers that should run and those that do; a dead one is what liveness reports. */
  public synchronized Status status() {
    int alive = (int) threads.stream().filter(t -> t != null && t.isAlive()).count();
    return new Status(
        threads.isEmpty() ? 0 : workerCount,
        alive,
        settings.delivery(),
        lastWritten,
        failingSince,
        lastFailure);
  }

  public boolean stopping() {
    return stopping;
  }

  private static String defaultPrefix(int httpPort) {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      host = "localhost";
    }
    // Port 0 (tests) is not stable: the process id keeps two such replicas apart.
    String suffix = httpPort != 0 ? String.valueOf(httpPort) : "p" + ProcessHandle.current().pid();
    return "inference-" + host + "-" + suffix;
  }
}
