package lenet.inference.model;

import ai.djl.Device;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.CheckpointTrust;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.WireFormatException;
import lenet.inference.config.InferenceConfig.CandidateChoice;
import lenet.inference.config.InferenceConfig.Policy;
import lenet.model.LeNet5;
import lenet.model.ModelIO;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jboss.logging.Logger;

/**
 * The model lifecycle of one replica, with its state on Kafka: checkpoints are candidates (from the
 * checkpoint topic), the control topic says which are promoted and what is pinned, and this class
 * makes the serving model follow: the pin, else the champion (the newest promoted version), else
 * (policies {@code latest}/{@code best}) what the policy picks. When a run completes it gates the
 * run's candidate itself and writes the verdict to the control topic, where every replica applies
 * it; pin and follow are written there too.
 *
 * <p>Threads: the follower thread feeds records in; the loader thread swaps models; the gate thread
 * gates candidates, runs retention and decides shadows. One lock guards the catalog and the control
 * state.
 */
public final class ModelManager implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(ModelManager.class);

  /** What the manager needs from configuration. */
  public record Settings(
      Policy policy,
      Device device,
      int predictors,
      int warmUpPasses,
      int warmUpBatch,
      int keepVersions,
      Topics topics,
      CandidateChoice candidate,
      double tolerance,
      Split gateSplit,
      int gateMaxImages,
      Duration gateRetry,
      int retainVersions,
      int retainPromoted,
      double shadowFraction,
      int shadowMinImages,
      double shadowMinAgreement,
      String replicaId,
      CheckpointTrust trust,
      ControlTrust controlTrust) {

    public String checkpointTopic() {
      return topics.name(Topic.MODEL_CHECKPOINTS);
    }

    public String controlTopic() {
      return topics.name(Topic.MODEL_CONTROL);
    }

    /** These settings with another retention. */
    public Settings withRetention(int versions, int promoted) {
      return new Settings(
          policy,
          device,
          predictors,
          warmUpPasses,
          warmUpBatch,
          keepVersions,
          topics,
          candidate,
          tolerance,
          gateSplit,
          gateMaxImages,
          gateRetry,
          versions,
          promoted,
          shadowFraction,
          shadowMinImages,
          shadowMinAgreement,
          replicaId,
          trust,
          controlTrust);
    }

    /** These settings with shadow scoring. */
    public Settings withShadow(double fraction, int minImages, double minAgreement) {
      return new Settings(
          policy,
          device,
          predictors,
          warmUpPasses,
          warmUpBatch,
          keepVersions,
          topics,
          candidate,
          tolerance,
          gateSplit,
          gateMaxImages,
          gateRetry,
          retainVersions,
          retainPromoted,
          fraction,
          minImages,
          minAgreement,
          replicaId,
          trust,
          controlTrust);
    }

    /**
     * Defaults for a replica built in code (tests, tools): gated, dev split, no shadow, checkpoints
     * trusted as {@code trust} says, control records signed with a key every replica built in this
     * process shares.
     */
    public static Settings of(
        Policy policy, Device device, Topics topics, String replicaId, CheckpointTrust trust) {
      return new Settings(
          policy,
          device,
          1,
          1,
          4,
          64,
          topics,
          CandidateChoice.FINAL,
          0.001,
          Split.DEV,
          0,
          Duration.ofSeconds(2),
          50,
          10,
          0,
          1000,
          0,
          replicaId,
          trust,
          new ControlTrust(ControlTrust.inProcessFleetKey(), java.util.List.of(), trust));
    }
  }

  private final Settings settings;
  private final MeterRegistry registry;
  private final ServingSlot slot;
  private final ControlPublisher publisher;
  private final ModelState state;
  private final CheckpointRejections rejections;
  private final Promotions promotions;
  private final Pins pins;
  private CompletableFuture<Void> pendingConvergence;

  private final ExecutorService loader =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "model-loader"));
  private final Counter reloads;

  public ModelManager(Settings settings, MeterRegistry registry, KafkaConnection kafka) {
    this.settings = settings;
    this.registry = registry;
    this.slot = new ServingSlot(settings.device(), settings.predictors());
    this.publisher =
        new ControlPublisher(
            kafka, settings.controlTopic(), settings.checkpointTopic(), settings.controlTrust());
    this.state = new ModelState(settings.policy(), settings.candidate(), settings.retainPromoted());
    this.rejections = new CheckpointRejections(registry, state, slot);
    this.promotions =
        new Promotions(
            settings,
            state,
            slot,
            publisher,
            new PromotionGate(
                slot,
                new GateSet(
                    kafka, settings.topics(), settings.gateSplit(), settings.gateMaxImages()),
                settings.tolerance(),
                settings.warmUpPasses(),
                settings.warmUpBatch()),
            rejections,
            registry);
    this.pins = new Pins(settings, state, slot, publisher);
    this.reloads =
        Counter.builder("inference.model.reloads")
            .description("Models swapped in (loaded, warmed up and serving)")
            .register(registry);
    Gauge.builder("inference.model.serving.version", this, m -> orNaN(m.slot.servingVersion()))
        .description("Version of the checkpoint that serves; NaN before the first")
        .register(registry);
    Gauge.builder("inference.model.champion.version", this, m -> orNaN(m.champion()))
        .description("The newest promoted version; NaN before the first promotion")
        .register(registry);
    Gauge.builder("inference.model.live", slot, ServingSlot::liveModels)
        .description(
            "Models holding native memory: 1 at rest, 2 while an old one drains or a gate runs")
        .register(registry);
    Gauge.builder("inference.model.known", this, m -> m.view().versions().size())
        .description("Valid checkpoints seen on the checkpoint topic")
        .register(registry);
  }

  private static double orNaN(Optional<Long> v) {
    return v.map(Long::doubleValue).orElse(Double.NaN);
  }

  public Settings settings() {
    return settings;
  }

  // ---------------------------------------------------------------- records in (follower thread)

  /**
   * Registers one record of the checkpoint topic: verifies it (signature of a trusted trainer key,
   * SHA-256, architecture, parameter count, a plausible version) and keeps it, or rejects it with a
   * logged reason and a counter; a tombstone signed by the fleet's control key (retention's)
   * forgets the version, an unsigned one is rejected. Loads nothing: call {@link #converge()} after
   * a poll.
   */
  public void offer(ConsumerRecord<byte[], byte[]> record) {
    String source = record.topic() + "-" + record.partition() + "@" + record.offset();
    byte[] key = record.key();
    byte[] value = record.value();
    String k = key == null ? null : new String(key, StandardCharsets.UTF_8);
    if (!Checkpoint.keyBelongsTo(k, LeNet5.MODEL_NAME)) {
      LOG.debugf("Skipping checkpoint %s for key '%s'", source, k);
      return;
    }
    if (value == null) {
      // A deletion counts only signed by the fleet (retention's): else any Kafka writer could
      // demote the champion by deleting its checkpoint on every replica.
      try {
        settings.controlTrust().verify(k, null, null, record.headers());
      } catch (ControlTrust.Refused e) {
        rejections.reject(source, e.reason.name(), e.getMessage());
        return;
      }
      long version = Checkpoint.versionOfKey(k);
      synchronized (state) {
        if (version >= 0 && !slot.servingVersion().filter(v -> v == version).isPresent()) {
          state.remove(version);
        }
      }
      return;
    }
    Checkpoint checkpoint;
    try {
      settings.trust().verify(value, record.headers());
      checkpoint = Checkpoint.decode(value);
      ModelIO.checkCompatible(checkpoint.header());
    } catch (WireFormatException e) {
      rejections.reject(source, e.reason().name(), e.getMessage());
      return;
    }
    Checkpoint.Header h = checkpoint.header();
    if (!LeNet5.MODEL_NAME.equals(h.modelName())) {
      LOG.debugf("Skipping checkpoint %s for model '%s'", source, h.modelName());
      return;
    }
    long newestKnown;
    synchronized (state) {
      newestKnown = state.catalog.newestVersion();
    }
    if (!settings.trust().plausible(h.modelVersion(), newestKnown, record.offset())) {
      rejections.reject(
          source,
          "VERSION_TOO_FAR",
          "checkpoint v"
              + h.modelVersion()
              + " is more than "
              + settings.trust().maxVersionJump()
              + " above the newest known version ("
              + newestKnown
              + ") and its own offset ("
              + record.offset()
              + ")");
      return;
    }
    synchronized (state) {
      state.catalog.add(checkpoint, k);
      state.catalog.evictParameters(
          settings.keepVersions(), state.protectedVersions(slot.servingVersion()));
    }
    LOG.infof(
        "Checkpoint v%d is available (run %s, epoch %d/%d, dev accuracy %.4f, from %s)",
        h.modelVersion(), h.runId(), h.epoch(), h.epochs(), h.devAccuracy(), source);
  }

  /**
   * Applies one record of the control topic (a tombstone when its value is null) when it verifies
   * ({@link ControlTrust}); one that does not is ignored, counted ({@code
   * inference_control_refused_total{reason}}), logged and listed in {@link ModelView}.
   */
  public void control(ConsumerRecord<byte[], byte[]> r) {
    String source = r.topic() + "-" + r.partition() + "@" + r.offset();
    String k = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
    ModelControl record = null;
    ControlTrust.Authority by;
    try {
      if (r.value() != null) {
        try {
          record = ModelControl.decode(r.value());
        } catch (WireFormatException e) {
          throw new ControlTrust.Refused(ControlTrust.Reason.UNREADABLE, e.getMessage());
        }
      }
      by = settings.controlTrust().verify(k, record, r.value(), r.headers());
    } catch (ControlTrust.Refused e) {
      boolean fresh;
      synchronized (state) {
        fresh =
            state.control.refuse(
                new ModelView.Rejection(
                    java.time.Instant.now(),
                    source + " (" + k + ")",
                    e.reason.name(),
                    e.getMessage()));
      }
      if (fresh) { // not the same record read again after a reconnect
        Counter.builder("inference.control.refused")
            .description("Control records ignored: unreadable, badly signed or beyond their signer")
            .tag("reason", e.reason.name())
            .register(registry)
            .increment();
        LOG.warnf(
            "Ignoring control record %s (%s): %s: %s", source, k, e.reason.name(), e.getMessage());
      }
      return;
    }
    synchronized (state) {
      state.control.apply(k, record, by, source);
    }
    promotions.dropShadowIfDecided();
    if (record != null) {
      LOG.infof(
          "Model control %s%s by %s: %s (%s)",
          record.type(),
          record.version() == null ? "" : " v" + record.version(),
          record.by(),
          record.reason(),
          source);
    }
  }

  /** The follower read both topics up to where they ended at start: decide and serve now. */
  public void caughtUp() {
    synchronized (state) {
      state.caughtUp = true;
    }
    converge();
  }

  public boolean isCaughtUp() {
    synchronized (state) {
      return state.caughtUp;
    }
  }

  // ---------------------------------------------------------------- what serves (loader thread)

  /**
   * Brings the serving model to the wanted one on the loader thread, then lets the gate look for a
   * new candidate. Calls made while one is already queued share it, which coalesces bursts of
   * records into one load.
   */
  public CompletableFuture<Void> converge() {
    synchronized (state) {
      if (pendingConvergence != null) {
        return pendingConvergence;
      }
      CompletableFuture<Void> done = new CompletableFuture<>();
      pendingConvergence = done;
      try {
        loader.execute(
            () -> {
              synchronized (state) {
                pendingConvergence = null;
              }
              try {
                convergeNow();
                done.complete(null);
              } catch (RuntimeException e) {
                LOG.errorf(
                    e, "Model selection failed unexpectedly; the serving model is unchanged");
                done.completeExceptionally(e);
              }
              promotions.schedule(Duration.ZERO);
            });
      } catch (RejectedExecutionException e) {
        pendingConvergence = null;
        done.completeExceptionally(e);
      }
      return done;
    }
  }

  private void convergeNow() {
    // Each failed load marks its version failed, so this ends after at most one try per version.
    while (true) {
      Checkpoint wanted;
      synchronized (state) {
        if (!state.caughtUp) {
          return; // decide only on the whole history, never on half of it
        }
        wanted = state.wanted().map(e -> e.checkpoint).orElse(null);
      }
      if (wanted == null
          || slot.servingVersion().filter(v -> v == wanted.header().modelVersion()).isPresent()) {
        return;
      }
      try {
        swapIn(wanted);
        return;
      } catch (RuntimeException e) {
        rejections.failed(wanted.header().modelVersion(), e);
      }
    }
  }

  private void swapIn(Checkpoint checkpoint) {
    long t0 = System.nanoTime();
    Optional<Long> old = slot.swapIn(checkpoint, settings.warmUpPasses(), settings.warmUpBatch());
    reloads.increment();
    Checkpoint.Header h = checkpoint.header();
    String why;
    synchronized (state) {
      why =
          state.pinned().filter(v -> v == h.modelVersion()).isPresent()
              ? "pinned"
              : settings.policy() == Policy.GATED
                  ? (state.champion().filter(v -> v == h.modelVersion()).isPresent()
                      ? "champion"
                      : "an earlier champion (the newer ones cannot load here)")
                  : "policy " + settings.policy().name().toLowerCase();
    }
    LOG.infof(
        "Serving model v%d (run %s, epoch %d/%d, %s); loaded and warmed up in %d ms%s",
        h.modelVersion(),
        h.runId(),
        h.epoch(),
        h.epochs(),
        why,
        (System.nanoTime() - t0) / 1_000_000,
        old.map(v -> "; v" + v + " closes once its requests in flight finish").orElse(""));
  }

  // ---------------------------------------------------------------- requests and operators

  /**
   * A reference to the serving model for one request; close it when the forward pass is done.
   *
   * @throws NoModelException before the first model serves
   */
  public ModelLease lease() {
    return slot.lease()
        .orElseThrow(
            () ->
                new NoModelException(
                    "no model serves yet: "
                        + (isCaughtUp()
                            ? "waiting for a promoted checkpoint on '"
                                + settings.checkpointTopic()
                                + "'; start a training run (trainer-service) or check that the trainer can reach Kafka"
                            : "still reading the model topics from Kafka")));
  }

  /** Completes when the first model serves (the Kafka scorer waits on it). */
  public CompletableFuture<Void> firstModel() {
    return slot.firstModel();
  }

  public Optional<Checkpoint.Header> serving() {
    return slot.serving();
  }

  public Optional<Long> pinnedVersion() {
    synchronized (state) {
      return state.pinned();
    }
  }

  public Optional<Long> champion() {
    synchronized (state) {
      return state.champion();
    }
  }

  /** Models currently holding native memory. */
  public int liveModels() {
    return slot.liveModels();
  }

  /** Loads attempted since start (a cold start that replays many checkpoints makes exactly one). */
  public long loadAttempts() {
    return slot.loadAttempts();
  }

  /**
   * Pins {@code version} on every replica (rollback or roll forward) and waits until it serves
   * here.
   *
   * @throws UnknownVersionException when no valid checkpoint has this version
   * @throws ActivationException when it cannot serve
   */
  public void activate(long version, Duration timeout) {
    pins.activate(version, timeout);
  }

  /** Drops the pin on every replica and waits until this one serves the champion again. */
  public void follow(Duration timeout) {
    pins.follow(timeout);
  }

  /**
   * After a scored batch: a sample of the traffic is also scored by the candidate in shadow, if one
   * runs. Never blocks.
   */
  public void shadow(float[][] rows, float[][] championOutput) {
    promotions.shadow(rows, championOutput);
  }

  /** A snapshot for {@code GET /api/models}, newest version first. */
  public ModelView view() {
    return ModelViews.of(
        settings, state, slot.servingVersion(), slot.swaps(), promotions.shadowRun());
  }

  @Override
  public void close() {
    promotions.close();
    loader.shutdownNow();
    try {
      loader.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    slot.close();
    publisher.close();
  }
}
