package lenet.inference.model;

import ai.djl.Device;
import ai.djl.translate.TranslateException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import lenet.contract.model.LeNet5;
import lenet.contract.model.ModelIO;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.WireFormatException;
import lenet.inference.config.InferenceConfig.Policy;
import org.jboss.logging.Logger;

/**
 * Knows every checkpoint seen on the checkpoint topic, decides which one serves (policy or pin),
 * and swaps models: a new one is loaded, warmed up and checked on the single loader thread, off the
 * request path, then swapped in atomically; the old one finishes its requests in flight and closes
 * when the last one releases it.
 *
 * <p>Requests take a {@link Lease} for one forward pass. Changes of the wanted model are coalesced:
 * however many checkpoints arrive while a load runs, the next load is for the one the policy
 * selects at that moment.
 */
public final class ModelManager implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(ModelManager.class);
  private static final int REJECTIONS_KEPT = 20;

  /** What the manager needs from configuration. */
  public record Settings(
      Policy policy,
      Device device,
      int predictors,
      int warmUpPasses,
      int warmUpBatch,
      int keepVersions,
      String checkpointTopic) {}

  /** Whether the policy or a person picks the serving version. */
  public enum Mode {
    FOLLOWING,
    PINNED
  }

  /** A known checkpoint as {@code GET /api/models} lists it. */
  public record VersionInfo(
      long version,
      String runId,
      int epoch,
      int epochs,
      Instant createdAt,
      double loss,
      double accuracy,
      double devLoss,
      double devAccuracy,
      Double testLoss,
      Double testAccuracy,
      boolean serving,
      boolean selectedByPolicy,
      boolean activatable,
      String failure) {}

  /** A checkpoint that was refused, and why. */
  public record Rejection(Instant at, String source, String reason, String message) {}

  /** The whole model state. */
  public record View(
      String policy,
      Mode mode,
      Long serving,
      Long pinned,
      long reloads,
      List<VersionInfo> versions,
      List<Rejection> rejected) {}

  private static final class Known {
    final Checkpoint.Header header;
    Checkpoint checkpoint;
    String failure;

    Known(Checkpoint checkpoint) {
      this.header = checkpoint.header();
      this.checkpoint = checkpoint;
    }

    boolean loadable() {
      return checkpoint != null && failure == null;
    }
  }

  private final Settings settings;
  private final MeterRegistry registry;
  private final Object lock = new Object();
  private final Map<Long, Known> known = new LinkedHashMap<>();
  private final Deque<Rejection> rejections = new ArrayDeque<>();
  private Long pinned;
  private CompletableFuture<Void> pendingConvergence;

  private final AtomicReference<ServingModel> current = new AtomicReference<>();
  private final CompletableFuture<Void> firstModel = new CompletableFuture<>();
  private final ExecutorService loader =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "model-loader"));
  private final AtomicInteger liveModels = new AtomicInteger();
  private final AtomicLong loadAttempts = new AtomicLong();
  private final Counter reloads;

  public ModelManager(Settings settings, MeterRegistry registry) {
    this.settings = settings;
    this.registry = registry;
    this.reloads =
        Counter.builder("inference.model.reloads")
            .description("Models swapped in (loaded, warmed up and serving)")
            .register(registry);
    Gauge.builder("inference.model.serving.version", this, ModelManager::servingVersionOrNaN)
        .description("Version of the checkpoint that serves; NaN before the first")
        .register(registry);
    Gauge.builder("inference.model.live", liveModels, AtomicInteger::get)
        .description("Models holding native memory: 1 at rest, 2 while an old one drains")
        .register(registry);
    Gauge.builder("inference.model.known", this, m -> m.view().versions().size())
        .description("Valid checkpoints seen on the checkpoint topic")
        .register(registry);
  }

  public Settings settings() {
    return settings;
  }

  /**
   * Registers one record of the checkpoint topic: verifies it (SHA-256, architecture, parameter
   * count) and keeps it, or rejects it with a logged reason and a counter. Does not load anything:
   * call {@link #converge()} after a poll.
   *
   * @param source where the record came from, for logs (topic-partition@offset)
   */
  public void offer(byte[] key, byte[] value, String source) {
    if (value == null) {
      return; // a compaction tombstone: nothing to serve
    }
    if (key != null && !LeNet5.MODEL_NAME.equals(new String(key, StandardCharsets.UTF_8))) {
      LOG.debugf(
          "Skipping checkpoint %s for model '%s'", source, new String(key, StandardCharsets.UTF_8));
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
      known.remove(
          h.modelVersion()); // a re-published version moves to the end of the arrival order
      known.put(h.modelVersion(), new Known(checkpoint));
      evictParameters();
    }
    LOG.infof(
        "Checkpoint v%d is available (run %s, epoch %d/%d, dev accuracy %.4f, from %s)",
        h.modelVersion(), h.runId(), h.epoch(), h.epochs(), h.devAccuracy(), source);
  }

  private void reject(String source, String reason, String message) {
    Counter.builder("inference.checkpoints.rejected")
        .description("Checkpoints refused (corrupt, incompatible or failing to load)")
        .tag("reason", reason)
        .register(registry)
        .increment();
    synchronized (lock) {
      rejections.addFirst(new Rejection(Instant.now(), source, reason, message));
      while (rejections.size() > REJECTIONS_KEPT) {
        rejections.removeLast();
      }
    }
    ServingModel s = current.get();
    LOG.warnf(
        "Rejected checkpoint %s: %s: %s. %s Re-publish a good checkpoint from the trainer to replace it.",
        source,
        reason,
        message,
        s == null ? "No model serves yet." : "Model v" + s.version() + " keeps serving.");
  }

  /**
   * Drops the parameters of the oldest checkpoints beyond {@code keepVersions}, never the serving
   * or selected one.
   */
  private void evictParameters() {
    long held = known.values().stream().filter(k -> k.checkpoint != null).count();
    if (held <= settings.keepVersions()) {
      return;
    }
    Optional<Long> selected = selectedLocked().map(Checkpoint.Header::modelVersion);
    ServingModel s = current.get();
    for (Known k : known.values()) {
      if (held <= settings.keepVersions()) {
        break;
      }
      long v = k.header.modelVersion();
      boolean protectedVersion =
          (s != null && s.version() == v)
              || selected.filter(x -> x == v).isPresent()
              || (pinned != null && pinned == v);
      if (k.checkpoint != null && !protectedVersion) {
        k.checkpoint = null;
        held--;
      }
    }
  }

  private Optional<Checkpoint.Header> selectedLocked() {
    List<Checkpoint.Header> candidates =
        known.values().stream().filter(Known::loadable).map(k -> k.header).toList();
    return Selection.select(settings.policy(), candidates);
  }

  /**
   * Brings the serving model to the wanted one (the pin, else the policy's choice) on the loader
   * thread. Calls made while one is already queued share it, which coalesces bursts of checkpoints
   * into one load.
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
            });
      } catch (RejectedExecutionException e) {
        pendingConvergence = null;
        done.completeExceptionally(e);
      }
      return done;
    }
  }

  private void convergeNow() {
    // Each failed load marks its version failed, so this ends after at most one attempt per known
    // version.
    while (true) {
      Checkpoint wanted;
      synchronized (lock) {
        wanted = wantedLocked();
      }
      ServingModel s = current.get();
      if (wanted == null || (s != null && s.version() == wanted.header().modelVersion())) {
        return;
      }
      try {
        swapIn(wanted);
        return;
      } catch (RuntimeException e) {
        String reason = e instanceof WireFormatException w ? w.reason().name() : "LOAD_FAILED";
        synchronized (lock) {
          Known k = known.get(wanted.header().modelVersion());
          if (k != null) {
            k.failure = reason + ": " + e.getMessage();
          }
        }
        reject("v" + wanted.header().modelVersion(), reason, e.getMessage());
      }
    }
  }

  private Checkpoint wantedLocked() {
    if (pinned != null) {
      Known k = known.get(pinned);
      return k != null && k.loadable() ? k.checkpoint : null;
    }
    return selectedLocked().map(h -> known.get(h.modelVersion()).checkpoint).orElse(null);
  }

  private void swapIn(Checkpoint checkpoint) {
    long t0 = System.nanoTime();
    loadAttempts.incrementAndGet();
    liveModels.incrementAndGet();
    ServingModel fresh;
    try {
      fresh =
          ServingModel.load(
              checkpoint, settings.device(), settings.predictors(), liveModels::decrementAndGet);
    } catch (RuntimeException e) {
      liveModels.decrementAndGet();
      throw e;
    }
    try {
      fresh.warmUp(settings.warmUpPasses(), settings.warmUpBatch());
    } catch (RuntimeException e) {
      fresh.discard();
      throw e;
    }
    ServingModel old = current.getAndSet(fresh);
    reloads.increment();
    if (old != null) {
      old.release();
    }
    firstModel.complete(null);
    Checkpoint.Header h = checkpoint.header();
    LOG.infof(
        "Serving model v%d (run %s, epoch %d/%d, dev accuracy %.4f, policy %s%s); loaded and warmed up in %d ms%s",
        h.modelVersion(),
        h.runId(),
        h.epoch(),
        h.epochs(),
        h.devAccuracy(),
        settings.policy(),
        pinnedVersion().isPresent() ? ", pinned" : "",
        (System.nanoTime() - t0) / 1_000_000,
        old == null ? "" : "; v" + old.version() + " closes once its requests in flight finish");
  }

  /**
   * A reference to the serving model for one request; close it when the forward pass is done.
   *
   * @throws NoModelException before the first model serves
   */
  public Lease lease() {
    while (true) {
      ServingModel s = current.get();
      if (s == null) {
        throw new NoModelException(
            "no model is loaded yet: waiting for a checkpoint on '"
                + settings.checkpointTopic()
                + "'; start a training run (trainer-service) or check that the trainer can reach Kafka");
      }
      if (s.retain()) {
        return new Lease(s);
      }
      // That model was swapped out and drained between the read and the retain: read the new one.
    }
  }

  /** Completes when the first model serves (the Kafka scorer waits on it). */
  public CompletableFuture<Void> firstModel() {
    return firstModel;
  }

  public Optional<Checkpoint.Header> serving() {
    ServingModel s = current.get();
    return s == null ? Optional.empty() : Optional.of(s.header());
  }

  private double servingVersionOrNaN() {
    ServingModel s = current.get();
    return s == null ? Double.NaN : s.version();
  }

  public Optional<Long> pinnedVersion() {
    synchronized (lock) {
      return Optional.ofNullable(pinned);
    }
  }

  /** Models currently holding native memory. */
  public int liveModels() {
    return liveModels.get();
  }

  /** Loads attempted since start (a cold start that replays many checkpoints makes exactly one). */
  public long loadAttempts() {
    return loadAttempts.get();
  }

  /**
   * Pins {@code version} (rollback or roll forward) and waits until it serves.
   *
   * @throws UnknownVersionException when no valid checkpoint has this version
   * @throws ActivationException when it cannot serve
   */
  public void activate(long version, Duration timeout) {
    Long previous;
    synchronized (lock) {
      Known k = known.get(version);
      if (k == null) {
        throw new UnknownVersionException(
            "model version " + version + " is unknown; GET /api/models lists the known versions");
      }
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
      previous = pinned;
      pinned = version;
    }
    await(converge(), timeout);
    if (serving().map(Checkpoint.Header::modelVersion).filter(v -> v == version).isEmpty()) {
      String failure;
      synchronized (lock) {
        if (pinned != null && pinned == version) {
          pinned = previous;
        }
        Known k = known.get(version);
        failure = k == null ? "it disappeared" : String.valueOf(k.failure);
      }
      throw new ActivationException("v" + version + " did not load: " + failure);
    }
    LOG.infof(
        "Pinned model v%d: new checkpoints are listed but do not serve until POST /api/models/follow",
        version);
  }

  /** Drops the pin and serves what the policy selects; waits until it serves. */
  public void follow(Duration timeout) {
    Long was;
    synchronized (lock) {
      was = pinned;
      pinned = null;
    }
    await(converge(), timeout);
    if (was != null) {
      LOG.infof(
          "Unpinned v%d: following the '%s' policy again, serving %s",
          was,
          settings.policy().name().toLowerCase(),
          serving().map(h -> "v" + h.modelVersion()).orElse("nothing yet"));
    }
  }

  private static void await(CompletableFuture<Void> future, Duration timeout) {
    try {
      future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ActivationException("interrupted while waiting for the model to load");
    } catch (ExecutionException e) {
      throw new ActivationException("model selection failed: " + e.getCause().getMessage());
    } catch (TimeoutException e) {
      throw new ActivationException(
          "the model is still loading after "
              + timeout.toSeconds()
              + " s; GET /api/models shows when it serves");
    }
  }

  /** A snapshot for {@code GET /api/models}, newest version first. */
  public View view() {
    synchronized (lock) {
      ServingModel s = current.get();
      Long servingVersion = s == null ? null : s.version();
      Long selected = selectedLocked().map(Checkpoint.Header::modelVersion).orElse(null);
      List<VersionInfo> versions = new ArrayList<>();
      for (Known k : known.values()) {
        Checkpoint.Header h = k.header;
        versions.add(
            new VersionInfo(
                h.modelVersion(),
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
                servingVersion != null && servingVersion == h.modelVersion(),
                selected != null && selected == h.modelVersion(),
                k.loadable(),
                k.failure));
      }
      versions.sort(Comparator.comparingLong(VersionInfo::version).reversed());
      return new View(
          settings.policy().name().toLowerCase(),
          pinned == null ? Mode.FOLLOWING : Mode.PINNED,
          servingVersion,
          pinned,
          (long) reloads.count(),
          List.copyOf(versions),
          List.copyOf(rejections));
    }
  }

  @Override
  public void close() {
    loader.shutdownNow();
    try {
      loader.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ServingModel s = current.getAndSet(null);
    if (s != null) {
      s.release();
    }
  }

  /**
   * One request's hold on a model version: the model stays open until every lease on it is closed.
   */
  public static final class Lease implements AutoCloseable {
    private final ServingModel model;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Lease(ServingModel model) {
      this.model = model;
    }

    public long version() {
      return model.version();
    }

    public Checkpoint.Header header() {
      return model.header();
    }

    /**
     * Softmax probabilities, one row of 10 per input row of 784 values in [0,1]; one forward pass.
     */
    public float[][] predict(float[][] rows) {
      try {
        return model.predict(rows);
      } catch (TranslateException e) {
        throw new IllegalStateException(
            "forward pass on model v" + version() + " failed: " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        model.release();
      }
    }
  }
}
