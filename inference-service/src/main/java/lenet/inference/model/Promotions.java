package lenet.inference.model;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;
import lenet.inference.config.InferenceConfig;
import lenet.inference.config.InferenceConfig.Policy;
import lenet.model.LeNet5;
import org.jboss.logging.Logger;

/**
 * Turns candidates into verdicts, on a thread of its own: picks the next candidate of a completed
 * run, gates it ({@link PromotionGate}), optionally lets it shadow the champion on live traffic,
 * writes PROMOTE or REJECT (or, with the canary on, CANARY) to the control topic (every replica,
 * this one included, applies it from there), and after a promotion deletes checkpoints beyond the
 * retention. The same thread looks at the live figures every {@code inference.canary.check-every}
 * ({@link LiveDecisions}).
 */
final class Promotions implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(Promotions.class);
  private static final long JITTER_MS = 1000;

  private final InferenceConfig config;
  private final ModelState state;
  private final ServingSlot slot;
  private final ControlPublisher publisher;
  private final PromotionGate gate;
  private final CheckpointRejections rejections;
  private final LiveDecisions live;
  private final MeterRegistry registry;
  private final ModelTraces traces;
  private final ScheduledExecutorService thread =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "model-gate"));
  private final AtomicBoolean pending = new AtomicBoolean();
  private volatile ShadowRun shadow;

  Promotions(
      InferenceConfig config,
      ModelState state,
      ServingSlot slot,
      ControlPublisher publisher,
      PromotionGate gate,
      CheckpointRejections rejections,
      LiveDecisions live,
      MeterRegistry registry,
      ModelTraces traces) {
    this.traces = traces;
    this.config = config;
    this.state = state;
    this.slot = slot;
    this.publisher = publisher;
    this.gate = gate;
    this.rejections = rejections;
    this.live = live;
    this.registry = registry;
    long every = config.canary().checkEvery().toMillis();
    thread.scheduleWithFixedDelay(live::check, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Looks for a candidate to gate after {@code delay} plus up to a second at random, so that
   * replicas which learn of a completed run at the same moment rarely gate it twice (they would
   * agree: verdicts are idempotent, but gating costs a model load). Calls while one is pending
   * share it.
   */
  void schedule(Duration delay) {
    if (config.policy() != Policy.GATED
        || !state.isCaughtUp()
        || !pending.compareAndSet(false, true)) {
      return;
    }
    try {
      thread.schedule(
          () -> {
            pending.set(false);
            try {
              gateNext();
            } catch (RuntimeException e) {
              LOG.errorf(
                  e,
                  "The promotion gate failed (%s); the champion is unchanged, retrying in %d s",
                  e.getMessage(),
                  config.gate().retry().toSeconds());
              schedule(config.gate().retry());
            }
          },
          delay.toMillis() + ThreadLocalRandom.current().nextLong(JITTER_MS),
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // Closing.
    }
  }

  private void gateNext() {
    if (!(state.nextAction(shadowingVersion()) instanceof ModelState.Action.Gate next)) {
      return; // nothing to gate, or a load comes first (it schedules the gate again)
    }
    Checkpoint candidate = next.candidate();
    Long championVersion = next.championVersion();
    long version = candidate.header().modelVersion();
    LOG.infof(
        "Gating candidate v%d (run %s) against %s",
        version,
        candidate.header().runId(),
        championVersion == null ? "no champion" : "champion v" + championVersion);
    // The gate's span, in the trace of the candidate's checkpoint (its training command's).
    Span span = traces.start("gate", version);
    span.setAttribute("lenet.run.id", String.valueOf(candidate.header().runId()));
    if (championVersion != null) {
      span.setAttribute("lenet.champion.version", championVersion);
    }
    try (Scope in = span.makeCurrent()) {
      if (!gate(next, span)) {
        return;
      }
    } finally {
      span.end();
    }
    schedule(Duration.ZERO); // a newer candidate may have come meanwhile
  }

  /** Gates {@code next}: false when there is nothing to gate it on yet (retried later). */
  private boolean gate(ModelState.Action.Gate next, Span span) {
    Checkpoint candidate = next.candidate();
    long version = candidate.header().modelVersion();
    Optional<GateOutcome> outcome =
        gate.evaluate(candidate, next.championVersion(), next.champion(), next.championGate());
    if (outcome.isEmpty()) {
      LOG.infof(
          "No dataset on Kafka to gate v%d on yet (ingest-service publishes it); retrying in %d s",
          version, config.gate().retry().toSeconds());
      span.setAttribute("lenet.gate.outcome", "no gate set yet");
      schedule(config.gate().retry());
      return false;
    }
    GateOutcome o = outcome.get();
    span.setAttribute("lenet.gate.passed", o.passed());
    span.setAttribute("lenet.gate.accuracy", o.gate().accuracy());
    span.setAttribute("lenet.gate.reason", o.reason());
    if (o.failureReason() != null) {
      rejections.failed(version, o.failureReason(), o.reason());
    }
    if (state.shadowsFirst(o)) {
      startShadow(candidate, o);
    } else {
      decide(version, o, null);
    }
    return true;
  }

  /** Writes the verdict on {@code version}, in a {@code verdict} span (the gate's child). */
  private void decide(long version, GateOutcome o, ModelControl.Shadow figures) {
    Span span = traces.start("verdict", version);
    try (Scope in = span.makeCurrent()) {
      span.setAttribute("lenet.verdict", decideTraced(version, o, figures).name());
    } finally {
      span.end();
    }
  }

  private ModelControl.Type decideTraced(long version, GateOutcome o, ModelControl.Shadow figures) {
    ModelControl verdict = state.verdict(version, o, figures);
    if (verdict.type() == ModelControl.Type.PROMOTE && state.canaryFirst()) {
      ModelControl canary = live.canaryRecord(version, verdict);
      publisher.publish(canary);
      state.judged(version);
      LOG.infof("Canary v%d: %s", version, canary.reason());
      return canary.type();
    }
    publisher.publish(verdict);
    state.judged(version);
    boolean promote = verdict.type() == ModelControl.Type.PROMOTE;
    Counter.builder("inference.gate.verdicts")
        .description("Candidates judged by this replica's gate")
        .tag("verdict", promote ? "promote" : "reject")
        .register(registry)
        .increment();
    LOG.infof("%s v%d: %s", promote ? "Promoted" : "Rejected", version, verdict.reason());
    if (promote) {
      applyRetention(version);
    }
    return verdict.type();
  }

  // ---------------------------------------------------------------- shadow scoring

  private void startShadow(Checkpoint candidate, GateOutcome o) {
    long version = candidate.header().modelVersion();
    ServingModel model;
    try {
      model = slot.load(candidate, 1, config.warmUpPasses(), config.warmUpBatch());
    } catch (RuntimeException e) {
      rejections.failed(version, e);
      return;
    }
    ShadowRun run =
        new ShadowRun(model, o, config.shadow().minImages(), () -> finishShadow(version));
    ShadowRun previous = shadow;
    shadow = run;
    if (previous != null) {
      previous.close();
    }
    LOG.infof(
        "v%d passed its gate; shadowing the champion on %.1f%% of live requests until %,d images",
        version, config.shadow().fraction() * 100, config.shadow().minImages());
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
              schedule(config.gate().retry());
            }
          });
    } catch (RejectedExecutionException e) {
      // Closing.
    }
  }

  /** A sample of scored traffic goes to the candidate in shadow, if one runs. Never blocks. */
  void shadow(float[][] rows, float[][] championOutput) {
    ShadowRun s = shadow;
    if (s != null && ThreadLocalRandom.current().nextDouble() < config.shadow().fraction()) {
      s.offer(rows, championOutput);
    }
  }

  /** The candidate shadowing here, with its figures so far. */
  Optional<ModelViews.Shadowing> shadowing() {
    ShadowRun s = shadow;
    return s == null
        ? Optional.empty()
        : Optional.of(new ModelViews.Shadowing(s.version(), s.gate().gate(), s.figures()));
  }

  private Optional<Long> shadowingVersion() {
    ShadowRun s = shadow;
    return s == null ? Optional.empty() : Optional.of(s.version());
  }

  /** Ends the shadow of a candidate that another replica decided. Call holding no lock. */
  void dropShadowIfDecided() {
    ShadowRun s = shadow;
    if (s != null && state.decided(s.version()) && s == shadow) {
      shadow = null;
      s.close();
    }
  }

  // ---------------------------------------------------------------- retention

  /**
   * Deletes the checkpoints retention retires ({@link ModelState#retired}) from the checkpoint
   * topic (tombstones, removed at the next compaction), with their verdicts.
   */
  private void applyRetention(long newChampion) {
    List<ModelCatalog.Entry> doomed = state.retired(newChampion);
    for (ModelCatalog.Entry e : doomed) {
      publisher.deleteCheckpoint(e.key);
      for (ModelControl.Type t : List.of(ModelControl.Type.PROMOTE, ModelControl.Type.REJECT)) {
        publisher.deleteControl(ModelControl.verdictKey(LeNet5.MODEL_NAME, e.version(), t));
      }
    }
    if (!doomed.isEmpty()) {
      LOG.infof(
          "Retention: deleted %d old checkpoint versions (keeping the newest %d, the champion, the pin and %d earlier champions)",
          doomed.size(), config.retention().keepVersions(), config.retention().keepPromoted());
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
    live.close();
  }
}
