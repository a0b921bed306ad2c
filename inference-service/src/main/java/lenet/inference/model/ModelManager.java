package lenet.inference.model;

import ai.djl.Device;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import lenet.contract.model.LeNet5;
import lenet.contract.model.ModelIO;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.WireFormatException;
import lenet.inference.config.InferenceConfig.CandidateChoice;
import lenet.inference.config.InferenceConfig.Policy;
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
      String replicaId) {

    public String checkpointTopic() {
      return topics.name(Topic.MODEL_CHECKPOINTS);
    }

    public String controlTopic() {
      return topics.name(Topic.MODEL_CONTROL);
    }

    /** Defaults for a replica built in code (tests, tools): gated, dev split, no shadow. */
    public static Settings of(Policy policy, Device device, Topics topics, String replicaId) {
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
          replicaId);
    }
  }

  private final Settings settings;
  private final MeterRegistry registry;
  private final ServingSlot slot;
  private final ControlPublisher publisher;
  private final PromotionGate gate;
  private final Object lock = new Object();
  private final ModelCatalog catalog = new ModelCatalog();
  private final ControlState control = new ControlState(LeNet5.MODEL_NAME);
  private final Set<Long> gatedHere = new HashSet<>();
  private CompletableFuture<Void> pendingConvergence;
  private boolean gatePending;
  private boolean caughtUp;
  private volatile ShadowRun shadow;

  private final ExecutorService loader =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "model-loader"));
  private final ScheduledExecutorService gater =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "model-gate"));
  private final Counter reloads;

  public ModelManager(Settings settings, MeterRegistry registry, String bootstrap) {
    this.settings = settings;
    this.registry = registry;
    this.slot = new ServingSlot(settings.device(), settings.predictors());
    this.publisher =
        new ControlPublisher(bootstrap, settings.controlTopic(), settings.checkpointTopic());
    this.gate =
        new PromotionGate(
            slot,
            new GateSet(
                bootstrap, settings.topics(), settings.gateSplit(), settings.gateMaxImages()),
            settings.tolerance(),
            settings.warmUpPasses(),
            settings.warmUpBatch());
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
   * Registers one record of the checkpoint topic: verifies it (SHA-256, architecture, parameter
   * count) and keeps it, or rejects it with a logged reason and a counter; a tombstone forgets the
   * version. Loads nothing: call {@link #converge()} after a poll.
   *
   * @param source where the record came from, for logs (topic-partition@offset)
   */
  public void offer(byte[] key, byte[] value, String source) {
    String k = key == null ? null : new String(key, StandardCharsets.UTF_8);
    if (!Checkpoint.keyBelongsTo(k, LeNet5.MODEL_NAME)) {
      LOG.debugf("Skipping checkpoint %s for key '%s'", source, k);
      return;
    }
    if (value == null) {
      long version = Checkpoint.versionOfKey(k);
      synchronized (lock) {
        if (version >= 0 && !slot.servingVersion().filter(v -> v == version).isPresent()) {
          catalog.remove(version);
        }
      }
      return;
    }
    Checkpoint checkpoint;
    try {
      checkpoint = Checkpoint.decode(value);
      ModelIO.checkCompatible(checkpoint.header());
    } catch (WireFormatException e) {
      reject(source, e.reason().name(), e.getMessage());
      return;
    }
    Checkpoint.Header h = checkpoint.header();
    if (!LeNet5.MODEL_NAME.equals(h.modelName())) {
      LOG.debugf("Skipping checkpoint %s for model '%s'", source, h.modelName());
      return;
    }
    synchronized (lock) {
      catalog.add(checkpoint, k);
      catalog.evictParameters(settings.keepVersions(), protectedLocked());
    }
    LOG.infof(
        "Checkpoint v%d is available (run %s, epoch %d/%d, dev accuracy %.4f, from %s)",
        h.modelVersion(), h.runId(), h.epoch(), h.epochs(), h.devAccuracy(), source);
  }

  /** Applies one record of the control topic (a tombstone when {@code value} is null). */
  public void control(byte[] key, byte[] value, String source) {
    String k = key == null ? "" : new String(key, StandardCharsets.UTF_8);
    ModelControl record = null;
    if (value != null) {
      try {
        record = ModelControl.decode(value);
      } catch (WireFormatException e) {
        Counter.builder("inference.control.rejected")
            .description("Control records that could not be read (ignored)")
            .register(registry)
            .increment();
        LOG.warnf("Ignoring unreadable control record %s (%s): %s", source, k, e.getMessage());
        return;
      }
    }
    ShadowRun decidedShadow = null;
    synchronized (lock) {
      control.apply(k, record, source);
      ShadowRun s = shadow;
      if (s != null && control.decided(s.version())) {
        decidedShadow = s;
        shadow = null;
      }
    }
    if (decidedShadow != null) {
      decidedShadow.close();
    }
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
    synchronized (lock) {
      caughtUp = true;
    }
    converge();
  }

  public boolean isCaughtUp() {
    synchronized (lock) {
      return caughtUp;
    }
  }

  private void reject(String source, String reason, String message) {
    Counter.builder("inference.checkpoints.rejected")
        .description("Checkpoints refused (corrupt, incompatible or failing to load)")
        .tag("reason", reason)
        .register(registry)
        .increment();
    synchronized (lock) {
      catalog.reject(new ModelView.Rejection(Instant.now(), source, reason, message));
    }
    LOG.warnf(
        "Rejected checkpoint %s: %s: %s. %s",
        source,
        reason,
        message,
        slot.servingVersion()
            .map(v -> "Model v" + v + " keeps serving.")
            .orElse("No model serves yet."));
  }

  // ---------------------------------------------------------------- what serves (loader thread)

  private Set<Long> protectedLocked() {
    Set<Long> keep = new HashSet<>();
    slot.servingVersion().ifPresent(keep::add);
    control.pinned().ifPresent(keep::add);
    keep.addAll(control.promotedNewestFirst());
    wantedLocked().ifPresent(e -> keep.add(e.version()));
    catalog.candidates(settings.candidate()).values().forEach(e -> keep.add(e.version()));
    return keep;
  }

  /** What the policy serves when nothing is pinned. */
  private Optional<ModelCatalog.Entry> selectedLocked() {
    if (settings.policy() == Policy.GATED) {
      for (long v : control.promotedNewestFirst()) {
        Optional<ModelCatalog.Entry> e = catalog.get(v).filter(ModelCatalog.Entry::loadable);
        if (e.isPresent()) {
          return e;
        }
      }
      return Optional.empty();
    }
    List<Checkpoint.Header> loadable =
        catalog.entries().stream().filter(ModelCatalog.Entry::loadable).map(e -> e.header).toList();
    return Selection.select(settings.policy(), loadable)
        .flatMap(h -> catalog.get(h.modelVersion()));
  }

  private Optional<ModelCatalog.Entry> wantedLocked() {
    Optional<ModelCatalog.Entry> pinned =
        control.pinned().flatMap(catalog::get).filter(ModelCatalog.Entry::loadable);
    return pinned.isPresent() ? pinned : selectedLocked();
  }

  /**
   * Brings the serving model to the wanted one on the loader thread, then lets the gate look for a
   * new candidate. Calls made while one is already queued share it, which coalesces bursts of
   * records into one load.
   */
  public CompletableFuture<Void> converge() {
    synchronized (lock) {
      if (pendingConvergence != null) {
        return pendingConvergence;
      }
      CompletableFuture<Void> done = new CompletableFuture<>();
      pendingConvergence = done;
      try {
        loader.execute(
            () -> {
              synchronized (lock) {
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
              scheduleGate(Duration.ZERO);
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
      synchronized (lock) {
        if (!caughtUp) {
          return; // decide only on the whole history, never on half of it
        }
        wanted = wantedLocked().map(e -> e.checkpoint).orElse(null);
      }
      if (wanted == null
          || slot.servingVersion().filter(v -> v == wanted.header().modelVersion()).isPresent()) {
        return;
      }
      try {
        swapIn(wanted);
        return;
      } catch (RuntimeException e) {
        markFailed(wanted.header().modelVersion(), e);
      }
    }
  }

  private void markFailed(long version, RuntimeException e) {
    String reason = e instanceof WireFormatException w ? w.reason().name() : "LOAD_FAILED";
    synchronized (lock) {
      catalog.get(version).ifPresent(k -> k.failure = reason + ": " + e.getMessage());
    }
    reject("v" + version, reason, e.getMessage());
  }

  private void swapIn(Checkpoint checkpoint) {
    long t0 = System.nanoTime();
    Optional<Long> old = slot.swapIn(checkpoint, settings.warmUpPasses(), settings.warmUpBatch());
    reloads.increment();
    Checkpoint.Header h = checkpoint.header();
    String why;
    synchronized (lock) {
      why =
          control.pinned().filter(v -> v == h.modelVersion()).isPresent()
              ? "pinned"
              : settings.policy() == Policy.GATED
                  ? (control.champion().filter(v -> v == h.modelVersion()).isPresent()
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

  // ---------------------------------------------------------------- the gate (gate thread)

  private void scheduleGate(Duration delay) {
    if (settings.policy() != Policy.GATED) {
      return;
    }
    synchronized (lock) {
      if (gatePending || !caughtUp) {
        return;
      }
      gatePending = true;
    }
    try {
      gater.schedule(
          () -> {
            synchronized (lock) {
              gatePending = false;
            }
            try {
              gateNext();
            } catch (RuntimeException e) {
              LOG.errorf(
                  e,
                  "The promotion gate failed (%s); the champion is unchanged, retrying in %d s",
                  e.getMessage(),
                  settings.gateRetry().toSeconds());
              scheduleGate(settings.gateRetry());
            }
          },
          delay.toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // Closing.
    }
  }

  /**
   * The newest undecided candidate of a completed run that is newer than the champion, not being
   * shadowed and not already judged here.
   */
  private Optional<ModelCatalog.Entry> nextCandidateLocked() {
    long champion = control.champion().orElse(-1L);
    ShadowRun s = shadow;
    return catalog.candidates(settings.candidate()).values().stream()
        .filter(e -> e.version() > champion)
        .filter(e -> !control.decided(e.version()))
        .filter(e -> !gatedHere.contains(e.version()))
        .filter(e -> s == null || s.version() != e.version())
        .filter(e -> e.checkpoint != null)
        .max((a, b) -> Long.compare(a.version(), b.version()));
  }

  private void gateNext() {
    Checkpoint candidate;
    Long championVersion;
    Optional<Checkpoint> champion;
    Optional<ModelControl.Gate> championGate;
    synchronized (lock) {
      Optional<ModelCatalog.Entry> next = nextCandidateLocked();
      if (next.isEmpty()) {
        return;
      }
      candidate = next.get().checkpoint;
      championVersion = control.champion().orElse(null);
      champion =
          Optional.ofNullable(championVersion)
              .flatMap(catalog::get)
              .filter(ModelCatalog.Entry::loadable)
              .map(e -> e.checkpoint);
      championGate =
          Optional.ofNullable(championVersion).flatMap(control::verdict).map(ModelControl::gate);
    }
    long version = candidate.header().modelVersion();
    LOG.infof(
        "Gating candidate v%d (run %s) against %s",
        version,
        candidate.header().runId(),
        championVersion == null ? "no champion" : "champion v" + championVersion);
    Optional<PromotionGate.Outcome> outcome =
        gate.evaluate(candidate, championVersion, champion, championGate);
    if (outcome.isEmpty()) {
      LOG.infof(
          "No dataset on Kafka to gate v%d on yet (ingest-service publishes it); retrying in %d s",
          version, settings.gateRetry().toSeconds());
      scheduleGate(settings.gateRetry());
      return;
    }
    PromotionGate.Outcome o = outcome.get();
    if (o.failure() != null) {
      synchronized (lock) {
        catalog.get(version).ifPresent(e -> e.failure = o.failure());
      }
      reject("v" + version, o.failure().substring(0, o.failure().indexOf(':')), o.reason());
    }
    if (o.passed() && settings.shadowFraction() > 0) {
      startShadow(candidate, o);
    } else {
      decide(version, o, null);
    }
    scheduleGate(Duration.ZERO); // a newer candidate may have come meanwhile
  }

  private void decide(long version, PromotionGate.Outcome o, ModelControl.Shadow figures) {
    boolean promote =
        o.passed() && (figures == null || figures.agreement() >= settings.shadowMinAgreement());
    String reason =
        o.reason()
            + (figures == null
                ? ""
                : String.format(
                    "; shadowed %,d live images, agreement %.4f (minimum %.4f)",
                    figures.images(), figures.agreement(), settings.shadowMinAgreement()));
    publisher.publish(
        ModelControl.verdict(
            promote, LeNet5.MODEL_NAME, version, o.gate(), figures, settings.replicaId(), reason));
    synchronized (lock) {
      gatedHere.add(version);
    }
    Counter.builder("inference.gate.verdicts")
        .description("Candidates judged by this replica's gate")
        .tag("verdict", promote ? "promote" : "reject")
        .register(registry)
        .increment();
    LOG.infof("%s v%d: %s", promote ? "Promoted" : "Rejected", version, reason);
    if (promote) {
      applyRetention(version);
    }
  }

  private void startShadow(Checkpoint candidate, PromotionGate.Outcome o) {
    long version = candidate.header().modelVersion();
    ServingModel model;
    try {
      model = slot.load(candidate, 1, settings.warmUpPasses(), settings.warmUpBatch());
    } catch (RuntimeException e) {
      markFailed(version, e);
      return;
    }
    ShadowRun run =
        new ShadowRun(model, o, settings.shadowMinImages(), () -> finishShadow(version));
    ShadowRun previous;
    synchronized (lock) {
      previous = shadow;
      shadow = run;
    }
    if (previous != null) {
      previous.close();
    }
    LOG.infof(
        "v%d passed its gate; shadowing the champion on %.1f%% of live requests until %,d images",
        version, settings.shadowFraction() * 100, settings.shadowMinImages());
  }

  private void finishShadow(long version) {
    try {
      gater.execute(
          () -> {
            ShadowRun s;
            synchronized (lock) {
              s = shadow;
              if (s == null || s.version() != version) {
                return;
              }
              shadow = null;
            }
            ModelControl.Shadow figures = s.figures();
            s.close();
            decide(version, s.gate(), figures);
          });
    } catch (RejectedExecutionException e) {
      // Closing.
    }
  }

  /**
   * After a scored batch: a sample of the traffic is also scored by the candidate in shadow, if one
   * runs. Never blocks.
   */
  public void shadow(float[][] rows, float[][] championOutput) {
    ShadowRun s = shadow;
    if (s != null && ThreadLocalRandom.current().nextDouble() < settings.shadowFraction()) {
      s.offer(rows, championOutput);
    }
  }

  /**
   * Deletes old checkpoints from the checkpoint topic (tombstones, removed at the next compaction):
   * all but the newest {@code retainVersions}, the champion, the pin and the last {@code
   * retainPromoted} champions. Checkpoints written under the bare model name (older builds) are
   * left to compaction.
   */
  private void applyRetention(long newChampion) {
    List<ModelCatalog.Entry> doomed = new ArrayList<>();
    synchronized (lock) {
      Set<Long> keep = new HashSet<>();
      keep.add(newChampion);
      control.pinned().ifPresent(keep::add);
      slot.servingVersion().ifPresent(keep::add);
      control.promotedNewestFirst().stream().limit(settings.retainPromoted()).forEach(keep::add);
      List<ModelCatalog.Entry> newest = catalog.newestFirst();
      for (int i = 0; i < newest.size(); i++) {
        ModelCatalog.Entry e = newest.get(i);
        boolean ownKey = Checkpoint.versionOfKey(e.key) == e.version();
        if (ownKey && i >= settings.retainVersions() && !keep.contains(e.version())) {
          doomed.add(e);
        }
      }
    }
    for (ModelCatalog.Entry e : doomed) {
      publisher.deleteCheckpoint(e.key);
      for (ModelControl.Type t : List.of(ModelControl.Type.PROMOTE, ModelControl.Type.REJECT)) {
        publisher.deleteControl(ModelControl.verdictKey(LeNet5.MODEL_NAME, e.version(), t));
      }
    }
    if (!doomed.isEmpty()) {
      LOG.infof(
          "Retention: deleted %d old checkpoint versions (keeping the newest %d, the champion, the pin and %d earlier champions)",
          doomed.size(), settings.retainVersions(), settings.retainPromoted());
    }
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
    synchronized (lock) {
      return control.pinned();
    }
  }

  public Optional<Long> champion() {
    synchronized (lock) {
      return control.champion();
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
   * Pins {@code version} fleet-wide (rollback or roll forward): writes the pin to the control topic
   * and waits until this replica serves it. When it cannot load here, the previous pin state is
   * written back.
   *
   * @throws UnknownVersionException when no valid checkpoint has this version
   * @throws ActivationException when it cannot serve
   */
  public void activate(long version, Duration timeout) {
    Optional<ModelControl> previous;
    synchronized (lock) {
      ModelCatalog.Entry k =
          catalog
              .get(version)
              .orElseThrow(
                  () ->
                      new UnknownVersionException(
                          "model version "
                              + version
                              + " is unknown; GET /api/models lists the known versions"));
      if (k.failure != null) {
        throw new ActivationException("v" + version + " cannot serve: " + k.failure);
      }
      if (k.checkpoint == null) {
        throw new ActivationException(
            "v"
                + version
                + " is older than the "
                + settings.keepVersions()
                + " versions kept in memory (inference.keep-versions); restart the service to re-read it");
      }
      previous = control.pinRecord();
    }
    write(
        ModelControl.pin(
            LeNet5.MODEL_NAME,
            version,
            settings.replicaId(),
            "pinned over HTTP on " + settings.replicaId()));
    boolean served =
        awaitCondition(
            timeout,
            () -> {
              synchronized (lock) {
                boolean failed = catalog.get(version).map(e -> e.failure != null).orElse(true);
                boolean applied = control.pinned().filter(v -> v == version).isPresent();
                return failed || (applied && isServing(version));
              }
            });
    if (!isServing(version)) {
      String failure;
      synchronized (lock) {
        failure = catalog.get(version).map(e -> String.valueOf(e.failure)).orElse("it vanished");
      }
      write(
          previous.orElseGet(
              () ->
                  ModelControl.follow(
                      LeNet5.MODEL_NAME,
                      settings.replicaId(),
                      "pin of v" + version + " undone: it did not load")));
      throw new ActivationException(
          "v" + version + " did not serve within " + timeout.toSeconds() + " s: " + failure);
    }
    LOG.infof(
        "Pinned model v%d on every replica: new champions are listed but do not serve until POST /api/models/follow",
        version);
  }

  /** Drops the pin fleet-wide and serves the champion (or the policy's choice) again. */
  public void follow(Duration timeout) {
    write(
        ModelControl.follow(
            LeNet5.MODEL_NAME,
            settings.replicaId(),
            "follow over HTTP on " + settings.replicaId()));
    awaitCondition(
        timeout,
        () -> {
          synchronized (lock) {
            if (control.pinned().isPresent()) {
              return false;
            }
            Optional<Long> wanted = wantedLocked().map(ModelCatalog.Entry::version);
            return wanted.isEmpty() || wanted.equals(slot.servingVersion());
          }
        });
    LOG.infof(
        "Following again: serving %s",
        serving().map(h -> "v" + h.modelVersion()).orElse("nothing yet"));
  }

  private void write(ModelControl record) {
    try {
      publisher.publish(record);
    } catch (IllegalStateException e) {
      throw new ActivationException("could not record the decision on Kafka: " + e.getMessage());
    }
  }

  private boolean isServing(long version) {
    return slot.servingVersion().filter(v -> v == version).isPresent();
  }

  private static boolean awaitCondition(Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ActivationException("interrupted while waiting for the model to serve");
      }
    }
    return true;
  }

  /** A snapshot for {@code GET /api/models}, newest version first. */
  public ModelView view() {
    synchronized (lock) {
      Long servingVersion = slot.servingVersion().orElse(null);
      Long selected = selectedLocked().map(ModelCatalog.Entry::version).orElse(null);
      Long champion = control.champion().orElse(null);
      Long pinned = control.pinned().orElse(null);
      Map<Long, ModelCatalog.Entry> candidates = catalog.candidates(settings.candidate());
      Set<Long> candidateVersions = new HashSet<>();
      candidates.values().forEach(e -> candidateVersions.add(e.version()));
      long newestCandidate = candidateVersions.stream().mapToLong(Long::longValue).max().orElse(-1);
      ShadowRun s = shadow;
      List<ModelView.Version> versions = new ArrayList<>();
      for (ModelCatalog.Entry k : catalog.newestFirst()) {
        Checkpoint.Header h = k.header;
        long v = h.modelVersion();
        Optional<ModelControl> verdict = control.verdict(v);
        ModelView.Status status;
        if (k.failure != null) {
          status = ModelView.Status.FAILED;
        } else if (champion != null && champion == v) {
          status = ModelView.Status.CHAMPION;
        } else if (control.promoted(v)) {
          status = ModelView.Status.PROMOTED;
        } else if (verdict.isPresent()) {
          status = ModelView.Status.REJECTED;
        } else if (s != null && s.version() == v) {
          status = ModelView.Status.SHADOW;
        } else if (candidateVersions.contains(v)) {
          status =
              v == newestCandidate && (champion == null || v > champion)
                  ? ModelView.Status.CANDIDATE
                  : ModelView.Status.SUPERSEDED;
        } else {
          status = ModelView.Status.EPOCH;
        }
        versions.add(
            new ModelView.Version(
                v,
                h.runId(),
                h.epoch(),
                h.epochs(),
                Instant.ofEpochMilli(h.createdAt()),
                h.loss(),
                h.accuracy(),
                h.devLoss(),
                h.devAccuracy(),
                h.testLoss(),
                h.testAccuracy(),
                status,
                servingVersion != null && servingVersion == v,
                selected != null && selected == v,
                k.loadable(),
                k.failure,
                verdict
                    .map(ModelControl::gate)
                    .orElse(s != null && s.version() == v ? s.gate().gate() : null),
                verdict.map(ModelControl::reason).orElse(null),
                s != null && s.version() == v
                    ? s.figures()
                    : verdict.map(ModelControl::shadow).orElse(null)));
      }
      return new ModelView(
          settings.policy().name().toLowerCase(),
          pinned == null ? ModelView.Mode.FOLLOWING : ModelView.Mode.PINNED,
          servingVersion,
          pinned,
          champion,
          caughtUp,
          settings.replicaId(),
          slot.swaps(),
          List.copyOf(versions),
          catalog.rejections(),
          control.history());
    }
  }

  @Override
  public void close() {
    gater.shutdownNow();
    loader.shutdownNow();
    try {
      gater.awaitTermination(10, TimeUnit.SECONDS);
      loader.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ShadowRun s = shadow;
    shadow = null;
    if (s != null) {
      s.close();
    }
    slot.close();
    publisher.close();
  }
}
