package lenet.inference.model;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;
import lenet.inference.config.InferenceConfig.Policy;
import lenet.model.LeNet5;
import org.jboss.logging.Logger;

/**
 * Turns candidates into verdicts, on a thread of its own: picks the next candidate of a completed
 * run, gates it ({@link PromotionGate}), optionally lets it shadow the champion on live traffic,
 * writes PROMOTE or REJECT to the control topic (every replica, this one included, applies it from
 * there), and after a promotion deletes checkpoints beyond the retention.
 */
final class Promotions implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(Promotions.class);
  private static final long JITTER_MS = 1000;

  private final ModelManager.Settings settings;
  private final ModelState state;
  private final ServingSlot slot;
  private final ControlPublisher publisher;
  private final PromotionGate gate;
  private final CheckpointRejections rejections;
  private final MeterRegistry registry;
  private final ScheduledExecutorService thread =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "model-gate"));
  private boolean pending;
  private volatile ShadowRun shadow;

  Promotions(
      ModelManager.Settings settings,
      ModelState state,
      ServingSlot slot,
      ControlPublisher publisher,
      PromotionGate gate,
      CheckpointRejections rejections,
      MeterRegistry registry) {
    this.settings = settings;
    this.state = state;
    this.slot = slot;
    this.publisher = publisher;
    this.gate = gate;
    this.rejections = rejections;
    this.registry = registry;
  }

  /**
   * Looks for a candidate to gate after {@code delay} plus up to a second at random, so that
   * replicas which learn of a completed run at the same moment rarely gate it twice (they would
   * agree: verdicts are idempotent, but gating costs a model load). Calls while one is pending
   * share it.
   */
  void schedule(Duration delay) {
    if (settings.policy() != Policy.GATED) {
      return;
    }
    synchronized (state) {
      if (pending || !state.caughtUp) {
        return;
      }
      pending = true;
    }
    try {
      thread.schedule(
          () -> {
            synchronized (state) {
              pending = false;
            }
            try {
              gateNext();
            } catch (RuntimeException e) {
              LOG.errorf(
                  e,
                  "The promotion gate failed (%s); the champion is unchanged, retrying in %d s",
                  e.getMessage(),
                  settings.gateRetry().toSeconds());
              schedule(settings.gateRetry());
            }
          },
          delay.toMillis() + ThreadLocalRandom.current().nextLong(JITTER_MS),
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // Closing.
    }
  }

  private void gateNext() {
    Checkpoint candidate;
    Long championVersion;
    Optional<Checkpoint> champion;
    Optional<ModelControl.Gate> championGate;
    synchronized (state) {
      Optional<ModelCatalog.Entry> next = state.nextCandidate(shadowing());
      if (next.isEmpty()) {
        return;
      }
      candidate = next.get().checkpoint;
      championVersion = state.champion().orElse(null);
      champion =
          Optional.ofNullable(championVersion)
              .flatMap(state.catalog::get)
              .filter(ModelCatalog.Entry::loadable)
              .map(e -> e.checkpoint);
      championGate =
          Optional.ofNullable(championVersion).flatMap(state::verdict).map(ModelControl::gate);
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
      schedule(settings.gateRetry());
      return;
    }
    PromotionGate.Outcome o = outcome.get();
    if (o.failureReason() != null) {
      rejections.failed(version, o.failureReason(), o.reason());
    }
    // Without a champion nothing serves, so there is no traffic to shadow: the gate decides alone.
    if (o.passed() && settings.shadowFraction() > 0 && championVersion != null) {
      startShadow(candidate, o);
    } else {
      decide(version, o, null);
    }
    schedule(Duration.ZERO); // a newer candidate may have come meanwhile
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
    synchronized (state) {
      state.gatedHere.add(version);
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

  // ---------------------------------------------------------------- shadow scoring

  private void startShadow(Checkpoint candidate, PromotionGate.Outcome o) {
    long version = candidate.header().modelVersion();
    ServingModel model;
    try {
      model = slot.load(candidate, 1, settings.warmUpPasses(), settings.warmUpBatch());
    } catch (RuntimeException e) {
      rejections.failed(version, e);
      return;
    }
    ShadowRun run =
        new ShadowRun(model, o, settings.shadowMinImages(), () -> finishShadow(version));
    ShadowRun previous = shadow;
    shadow = run;
    if (previous != null) {
      previous.close();
    }
    LOG.infof(
        "v%d passed its gate; shadowing the champion on %.1f%% of live requests until %,d images",
        version, settings.shadowFraction() * 100, settings.shadowMinImages());
  }

  private void finishShadow(long version) {
    try {
      thread.execute(
          () -> {
            ShadowRun s = shadow;
            if (s == null || s.version() != version) {
              return;
            }
            shadow = null;
            ModelControl.Shadow figures = s.figures();
            s.close();
            try {
              decide(version, s.gate(), figures);
            } catch (RuntimeException e) {
              LOG.errorf(
                  "Could not write the verdict on v%d (%s); it will be gated again",
                  version, e.getMessage());
              schedule(settings.gateRetry());
            }
          });
    } catch (RejectedExecutionException e) {
      // Closing.
    }
  }

  /** A sample of scored traffic goes to the candidate in shadow, if one runs. Never blocks. */
  void shadow(float[][] rows, float[][] championOutput) {
    ShadowRun s = shadow;
    if (s != null && ThreadLocalRandom.current().nextDouble() < settings.shadowFraction()) {
      s.offer(rows, championOutput);
    }
  }

  Optional<ShadowRun> shadowRun() {
    return Optional.ofNullable(shadow);
  }

  private Optional<Long> shadowing() {
    ShadowRun s = shadow;
    return s == null ? Optional.empty() : Optional.of(s.version());
  }

  /** Ends the shadow of a candidate that another replica decided. Call holding no lock. */
  void dropShadowIfDecided() {
    ShadowRun s = shadow;
    boolean decided;
    synchronized (state) {
      decided = s != null && state.decided(s.version());
    }
    if (decided && s == shadow) {
      shadow = null;
      s.close();
    }
  }

  // ---------------------------------------------------------------- retention

  /**
   * Deletes old checkpoints from the checkpoint topic (tombstones, removed at the next compaction):
   * all but the newest {@code retainVersions}, the champion, the pin and the last {@code
   * retainPromoted} champions. Checkpoints written under the bare model name (older builds) are
   * left to compaction.
   */
  private void applyRetention(long newChampion) {
    if (settings.retainVersions() <= 0) {
      return; // off: this replica may not write the checkpoint topic (deploy/'s ACLs)
    }
    List<ModelCatalog.Entry> doomed = new ArrayList<>();
    synchronized (state) {
      Set<Long> keep = new HashSet<>();
      keep.add(newChampion);
      state.pinned().ifPresent(keep::add);
      slot.servingVersion().ifPresent(keep::add);
      state.promotedNewestFirst().stream().limit(settings.retainPromoted()).forEach(keep::add);
      List<ModelCatalog.Entry> newest = state.catalog.newestFirst();
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

  @Override
  public void close() {
    thread.shutdownNow();
    try {
      thread.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ShadowRun s = shadow;
    shadow = null;
    if (s != null) {
      s.close();
    }
  }
}
