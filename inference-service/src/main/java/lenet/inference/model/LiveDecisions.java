package lenet.inference.model;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.ModelControl.Live;
import lenet.contract.wire.ModelControl.Tally;
import lenet.contract.wire.ModelControl.Type;
import lenet.inference.config.InferenceConfig;
import lenet.model.LeNet5;
import org.jboss.logging.Logger;

/**
 * The decisions taken on live figures ({@link LiveCounts}), every {@code
 * inference.canary.check-every} on the gate's thread of each replica: runs the fleet's canary here
 * ({@link CanarySlot}), promotes or drops it ({@link LiveRules#canary}), rolls back a champion that
 * did worse than the one it replaced ({@link LiveRules#rollback}), and signals a champion's drift
 * ({@link LiveRules#drifted}). Every decision is a signed control record with its figures, which
 * every replica applies; replicas that decide the same at once write the same thing (any PROMOTE
 * wins over a REJECT, as for the gate).
 */
final class LiveDecisions implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(LiveDecisions.class);

  private final InferenceConfig config;
  private final ModelState state;
  private final ServingSlot slot;
  private final ControlPublisher publisher;
  private final LiveCounts live;
  private final CanarySlot canary;
  private final String replicaId;
  private final MeterRegistry registry;
  private final Set<Long> driftGauged = ConcurrentHashMap.newKeySet();

  /** Keys of the records written here: one look does not write again what the last one wrote. */
  private final Set<String> written = ConcurrentHashMap.newKeySet();

  LiveDecisions(
      InferenceConfig config,
      ModelState state,
      ServingSlot slot,
      ControlPublisher publisher,
      LiveCounts live,
      String replicaId,
      MeterRegistry registry) {
    this.config = config;
    this.state = state;
    this.slot = slot;
    this.publisher = publisher;
    this.live = live;
    this.canary = new CanarySlot(config.canary().fraction());
    this.replicaId = replicaId;
    this.registry = registry;
  }

  /** A lease on the canary for its share of requests, else empty (the champion answers). */
  Optional<ModelLease> canaryLease() {
    return canary.lease();
  }

  /** The version that runs as canary here. */
  Optional<Long> canaryVersion() {
    return canary.version();
  }

  /**
   * The record a candidate that passed its gate gets when it goes to canary: its gate, the share of
   * traffic, and the champion's and its own tallies now (the canary's period starts here).
   */
  ModelControl canaryRecord(long version, ModelControl verdict) {
    long champion = state.champion().orElseThrow();
    List<Tally> start = List.of(tally(champion), tally(version));
    return ModelControl.live(
        Type.CANARY,
        LeNet5.MODEL_NAME,
        version,
        verdict.gate(),
        new Live(
            null,
            null,
            null,
            0,
            0,
            config.canary().confidence(),
            config.canary().tolerance(),
            config.canary().fraction(),
            start),
        replicaId,
        verdict.reason()
            + String.format(
                "; canary on %.1f%% of live traffic against champion v%d",
                config.canary().fraction() * 100, champion));
  }

  /** One look at the live figures: canary, rollback, drift. Never throws. */
  void check() {
    if (!state.isCaughtUp() || config.policy() != InferenceConfig.Policy.GATED) {
      return;
    }
    try {
      runCanary();
      judgeCanary();
      watchChampion();
    } catch (RuntimeException e) {
      LOG.warnf("Live figures not acted on this time (%s); trying again", e.getMessage());
    }
  }

  /** Loads the fleet's canary here, or ends the one that was decided. */
  private void runCanary() {
    Optional<Checkpoint> wanted = state.canary();
    Optional<Long> running = canary.version();
    if (wanted.map(c -> c.header().modelVersion()).equals(running)) {
      return;
    }
    if (wanted.isEmpty()) {
      canary.swap(null);
      LOG.infof("Canary v%d ended", running.get());
      return;
    }
    long version = wanted.get().header().modelVersion();
    try {
      canary.swap(
          slot.load(
              wanted.get(), config.predictors(), config.warmUpPasses(), config.warmUpBatch()));
      LOG.infof(
          "Canary v%d answers %.1f%% of live requests here",
          version, config.canary().fraction() * 100);
    } catch (RuntimeException e) {
      state.failed(version, "canary failed to load: " + e.getMessage());
      canary.swap(null);
    }
  }

  /** Promotes or drops the fleet's canary once its figures say so. */
  private void judgeCanary() {
    Optional<ModelControl> record = state.canaryRecord();
    if (record.isEmpty() || record.get().live() == null || record.get().live().start() == null) {
      return;
    }
    ModelControl c = record.get();
    long version = c.version();
    Tally championStart = c.live().start().get(0);
    Tally canaryStart = c.live().start().get(1);
    Optional<Long> champion = state.champion();
    if (champion.isEmpty() || champion.get() != championStart.version()) {
      publish(
          decision(
              Type.REJECT,
              c,
              null,
              null,
              null,
              canaryStart,
              "dropped: the champion it was measured against (v"
                  + championStart.version()
                  + ") no longer is"));
      return;
    }
    Optional<Tally> canaryNow = live.tally(version);
    Optional<Tally> championNow = live.tally(championStart.version());
    if (canaryNow.isEmpty() || championNow.isEmpty()) {
      return;
    }
    Tally candidate = canaryNow.get().since(canaryStart);
    Tally baseline = championNow.get().since(championStart);
    InferenceConfig.Canary cfg = config.canary();
    LiveRules.Call call =
        LiveRules.canary(candidate, baseline, cfg.confidence(), cfg.tolerance(), cfg.minLabelled());
    if (call == LiveRules.Call.WAIT) {
      return;
    }
    LiveRules.Bounds b = LiveRules.difference(candidate, baseline, cfg.confidence());
    boolean promote = call == LiveRules.Call.PROMOTE;
    String reason =
        String.format(
            "%s on live traffic: canary v%d %.4f on %,d labelled, champion v%d %.4f on %,d over the same period; difference in [%.4f, %.4f] at %.0f%% (one-sided), tolerance %.4f",
            promote ? "promoted" : "dropped",
            version,
            candidate.accuracy(),
            candidate.labelled(),
            championStart.version(),
            baseline.accuracy(),
            baseline.labelled(),
            b.low(),
            b.high(),
            cfg.confidence() * 100,
            cfg.tolerance());
    publish(
        decision(
            promote ? Type.PROMOTE : Type.REJECT,
            c,
            candidate,
            baseline,
            b,
            canaryNow.get(),
            reason));
  }

  /**
   * A canary's verdict: its gate, the figures, and (as {@code start}) its own tally now, from which
   * a rollback later measures it.
   */
  private ModelControl decision(
      Type type,
      ModelControl canaryRecord,
      Tally candidate,
      Tally baseline,
      LiveRules.Bounds b,
      Tally atDecision,
      String reason) {
    InferenceConfig.Canary cfg = config.canary();
    return ModelControl.live(
        type,
        LeNet5.MODEL_NAME,
        canaryRecord.version(),
        canaryRecord.gate(),
        new Live(
            candidate,
            baseline,
            null,
            b == null ? 0 : b.low(),
            b == null ? 0 : b.high(),
            cfg.confidence(),
            cfg.tolerance(),
            cfg.fraction(),
            List.of(atDecision)),
        replicaId,
        reason);
  }

  /** Rolls back a champion promoted on live figures that does worse; signals its drift. */
  private void watchChampion() {
    Optional<Long> champion = state.champion();
    Optional<ModelControl> promotion = state.championPromotion();
    if (champion.isEmpty() || promotion.isEmpty()) {
      return;
    }
    long version = champion.get();
    gaugeDrift(version);
    Optional<Tally> now = live.tally(version);
    if (now.isEmpty()) {
      return;
    }
    Live promotedOn = promotion.get().live();
    Tally since =
        promotedOn != null && promotedOn.start() != null && !promotedOn.start().isEmpty()
            ? now.get().since(promotedOn.start().get(0))
            : now.get();
    InferenceConfig.Canary cfg = config.canary();
    if (promotedOn != null
        && promotedOn.baseline() != null
        && !state.rolledBack(version)
        && LiveRules.rollback(
            since, promotedOn.baseline(), cfg.confidence(), cfg.tolerance(), cfg.minLabelled())) {
      LiveRules.Bounds b = LiveRules.difference(since, promotedOn.baseline(), cfg.confidence());
      Long back = state.championBefore(version).orElse(null);
      publish(
          ModelControl.live(
              Type.ROLLBACK,
              LeNet5.MODEL_NAME,
              version,
              null,
              new Live(
                  since,
                  promotedOn.baseline(),
                  null,
                  b.low(),
                  b.high(),
                  cfg.confidence(),
                  cfg.tolerance(),
                  null,
                  null),
              replicaId,
              String.format(
                  "rolled back to %s: v%d %.4f on %,d labelled since its promotion, v%d had %.4f on %,d; difference in [%.4f, %.4f] at %.0f%% (one-sided), tolerance %.4f",
                  back == null ? "no champion" : "v" + back,
                  version,
                  since.accuracy(),
                  since.labelled(),
                  promotedOn.baseline().version(),
                  promotedOn.baseline().accuracy(),
                  promotedOn.baseline().labelled(),
                  b.low(),
                  b.high(),
                  cfg.confidence() * 100,
                  cfg.tolerance())));
      return;
    }
    ModelControl.Gate gate = promotion.get().gate();
    InferenceConfig.Drift drift = config.drift();
    if (gate == null || state.driftSignalled(version)) {
      return;
    }
    boolean wrong =
        LiveRules.drifted(
            since, gate.accuracy(), cfg.confidence(), drift.tolerance(), drift.minLabelled());
    boolean unsure =
        gate.meanConfidence() != null
            && LiveRules.lessSure(
                since, gate.meanConfidence(), drift.confidenceTolerance(), drift.minLabelled());
    if (wrong || unsure) {
      double high = LiveRules.wilsonHigh(since, cfg.confidence());
      publish(
          ModelControl.live(
              Type.DRIFT,
              LeNet5.MODEL_NAME,
              version,
              gate,
              new Live(
                  since,
                  null,
                  gate.accuracy(),
                  since.accuracy(),
                  high,
                  cfg.confidence(),
                  drift.tolerance(),
                  null,
                  null),
              replicaId,
              String.format(
                  "drift (%s): champion v%d has live accuracy %.4f on %,d labelled (at most %.4f at %.0f%%) and mean confidence %.4f; its gate measured %.4f and %s on %s; tolerances %.4f and %.4f",
                  wrong && unsure ? "accuracy and confidence" : wrong ? "accuracy" : "confidence",
                  version,
                  since.accuracy(),
                  since.labelled(),
                  high,
                  cfg.confidence() * 100,
                  since.meanConfidence(),
                  gate.accuracy(),
                  gate.meanConfidence() == null
                      ? "no mean confidence"
                      : String.format("%.4f", gate.meanConfidence()),
                  gate.split(),
                  drift.tolerance(),
                  drift.confidenceTolerance())));
    }
  }

  /** {@code inference_drift{version}}: 1 once a DRIFT record names the version, else 0. */
  private void gaugeDrift(long version) {
    if (driftGauged.add(version)) {
      Gauge.builder("inference.drift", state, s -> s.driftSignalled(version) ? 1 : 0)
          .description("1 once the champion's live accuracy drifted from its gate's, by version")
          .tag("version", String.valueOf(version))
          .register(registry);
    }
  }

  /** Writes a decision once (the key names it), signed by the publisher. */
  private void publish(ModelControl record) {
    if (!written.add(record.key())) {
      return;
    }
    try {
      publisher.publish(record);
    } catch (RuntimeException e) {
      written.remove(record.key());
      throw e;
    }
    LOG.infof("%s v%d: %s", record.type(), record.version(), record.reason());
  }

  private Tally tally(long version) {
    return live.tally(version).orElse(new Tally(version, 0, 0, 0));
  }

  @Override
  public void close() {
    canary.close();
  }
}
