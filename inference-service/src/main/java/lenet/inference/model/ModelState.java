package lenet.inference.model;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;
import lenet.inference.config.InferenceConfig;
import lenet.inference.config.InferenceConfig.Policy;
import lenet.model.LeNet5;

/**
 * The core of one replica's model lifecycle: what it knows (the verified checkpoints, the fleet's
 * verified decisions, what serves here) and every decision taken from it: which version should
 * serve, which candidate the gate judges next, what a gate's outcome means, whether a version may
 * be pinned, which parameters stay in memory and which checkpoints retention deletes. Pure: no
 * Kafka, no DJL, no threads; the adapters around it (the follower feeds records in, the loader and
 * the gate carry out {@link #nextAction}) never reach inside. It owns its lock: every method is
 * synchronized and none blocks, so no adapter holds it while it loads a model or writes to Kafka.
 */
final class ModelState {

  /** What the replica should do next. */
  sealed interface Action {
    /** Nothing to do (still reading the topics, or everything is decided and serving). */
    record Idle() implements Action {}

    /** Swap this checkpoint in: the pin, else the champion, else the policy's pick. */
    record Load(Checkpoint checkpoint) implements Action {}

    /** End the shadow of a candidate that another replica decided meanwhile. */
    record EndShadow(long version) implements Action {}

    /**
     * Gate this candidate of a completed run against the champion.
     *
     * @param champion the champion's checkpoint, when its parameters are here and it can load
     * @param championGate what the gate measured when the champion was promoted
     */
    record Gate(
        Checkpoint candidate,
        Long championVersion,
        Optional<Checkpoint> champion,
        Optional<ModelControl.Gate> championGate)
        implements Action {}
  }

  /** Why a version cannot be pinned here. */
  static final class PinRefused extends RuntimeException {
    final boolean unknown;

    PinRefused(boolean unknown, String message) {
      super(message, null, false, false);
      this.unknown = unknown;
    }
  }

  private final ModelCatalog catalog = new ModelCatalog();
  private final ControlState control = new ControlState(LeNet5.MODEL_NAME);

  /** Candidates this replica wrote a verdict for (until the record comes back from Kafka). */
  private final Set<Long> gatedHere = new HashSet<>();

  /**
   * Versions this replica asked to pin, until the pin serves or is undone: their parameters must
   * not be evicted while the pin record travels.
   */
  private final Set<Long> pinning = new HashSet<>();

  private boolean caughtUp;
  private Long serving;

  private final InferenceConfig config;
  private final String replicaId;

  /**
   * @param config policy, gate, shadow, retention and how many versions keep their parameters
   * @param replicaId this replica's name on the records it writes
   */
  ModelState(InferenceConfig config, String replicaId) {
    this.config = config;
    this.replicaId = replicaId;
  }

  // ------------------------------------------------------------------------------- records in

  /** A verified checkpoint: kept, and parameters beyond the ones worth holding are dropped. */
  synchronized void apply(Checkpoint checkpoint, String key) {
    catalog.add(checkpoint, key);
    catalog.evictParameters(config.keepVersions(), protectedVersions());
  }

  /**
   * A checkpoint deleted from the topic (a verified tombstone): it and the verdicts on it are
   * forgotten, unless it serves here (it keeps serving until something else is wanted).
   */
  synchronized void delete(long version) {
    if (version < 0 || (serving != null && serving == version)) {
      return;
    }
    catalog.remove(version);
    control.forgetVersion(version);
  }

  /**
   * A verified record of the control topic.
   *
   * @param record the decoded value, null for a tombstone
   */
  synchronized void apply(String key, ModelControl record, String source) {
    control.apply(key, record, source);
  }

  /**
   * Lists a control record that changed nothing.
   *
   * @return false when it is listed already (the same record read again after a reconnect)
   */
  synchronized boolean refuse(ModelView.Rejection rejection) {
    return control.refuse(rejection);
  }

  /** Lists a refused checkpoint. */
  synchronized void reject(ModelView.Rejection rejection) {
    catalog.reject(rejection);
  }

  /** A version that cannot serve here (it failed to load, warm up or pass its gate's checks). */
  synchronized void failed(long version, String failure) {
    catalog.get(version).ifPresent(e -> e.failure = failure);
  }

  /** The follower has read both topics up to where they ended at start. */
  synchronized void caughtUp() {
    caughtUp = true;
  }

  synchronized boolean isCaughtUp() {
    return caughtUp;
  }

  /** {@code version} serves here now. */
  synchronized void served(long version) {
    serving = version;
  }

  /** The version that serves here. */
  synchronized Optional<Long> serving() {
    return Optional.ofNullable(serving);
  }

  synchronized boolean serves(long version) {
    return serving != null && serving == version;
  }

  synchronized long newestVersion() {
    return catalog.newestVersion();
  }

  // ------------------------------------------------------------------------------- decisions

  /**
   * What to do next: load what should serve; else end a shadow that the fleet decided; else (policy
   * gated) gate the newest undecided candidate; else nothing. Decides only on the whole history
   * (never before {@link #caughtUp}).
   *
   * @param shadowing the candidate shadowing the champion here, if any
   */
  synchronized Action nextAction(Optional<Long> shadowing) {
    if (!caughtUp) {
      return new Action.Idle();
    }
    Optional<ModelCatalog.Entry> wanted = wanted();
    if (wanted.isPresent() && (serving == null || serving != wanted.get().version())) {
      return new Action.Load(wanted.get().checkpoint);
    }
    if (shadowing.isPresent() && decided(shadowing.get())) {
      return new Action.EndShadow(shadowing.get());
    }
    if (config.policy() != Policy.GATED) {
      return new Action.Idle();
    }
    Optional<ModelCatalog.Entry> next =
        undecidedCandidates()
            .filter(e -> !gatedHere.contains(e.version()))
            .filter(e -> shadowing.filter(v -> v == e.version()).isEmpty())
            .filter(e -> e.checkpoint != null)
            .max((a, b) -> Long.compare(a.version(), b.version()));
    if (next.isEmpty()) {
      return new Action.Idle();
    }
    Long champion = champion().orElse(null);
    return new Action.Gate(
        next.get().checkpoint,
        champion,
        Optional.ofNullable(champion)
            .flatMap(catalog::get)
            .filter(ModelCatalog.Entry::loadable)
            .map(e -> e.checkpoint),
        Optional.ofNullable(champion).flatMap(this::verdict).map(ModelControl::gate));
  }

  /**
   * Whether a candidate that passed its gate shadows the champion on live traffic before its
   * verdict: only with shadow scoring on and a champion that serves traffic to shadow.
   */
  synchronized boolean shadowsFirst(GateOutcome outcome) {
    return outcome.passed() && config.shadow().fraction() > 0 && champion().isPresent();
  }

  /**
   * The verdict on a gated candidate: PROMOTE when it passed its gate and (when it shadowed) agreed
   * with the champion often enough, else REJECT; the record to write, with the figures as reason.
   *
   * @param shadow its shadow figures, null when it did not shadow
   */
  synchronized ModelControl verdict(long version, GateOutcome outcome, ModelControl.Shadow shadow) {
    double minAgreement = config.shadow().minAgreement();
    boolean promote = outcome.passed() && (shadow == null || shadow.agreement() >= minAgreement);
    String reason =
        outcome.reason()
            + (shadow == null
                ? ""
                : String.format(
                    "; shadowed %,d live images, agreement %.4f (minimum %.4f)",
                    shadow.images(), shadow.agreement(), minAgreement));
    return ModelControl.verdict(
        promote, LeNet5.MODEL_NAME, version, outcome.gate(), shadow, replicaId, reason);
  }

  /**
   * Whether a candidate the gate would promote goes to canary first: only with the canary on and a
   * champion serving the traffic it is measured against.
   */
  synchronized boolean canaryFirst() {
    return config.canary().fraction() > 0 && champion().isPresent();
  }

  /**
   * The candidate this fleet runs as canary: the newest with a CANARY record and no verdict yet,
   * whose parameters are here and which can load, while a champion serves.
   */
  synchronized Optional<Checkpoint> canary() {
    if (champion().isEmpty()) {
      return Optional.empty();
    }
    return canaries()
        .flatMap(v -> catalog.get(v).filter(ModelCatalog.Entry::loadable).stream())
        .map(e -> e.checkpoint)
        .findFirst();
  }

  /** The CANARY record of the canary this fleet runs, if any. */
  synchronized Optional<ModelControl> canaryRecord() {
    return canaries().findFirst().flatMap(control::canary);
  }

  /** The champion's PROMOTE record. */
  synchronized Optional<ModelControl> championPromotion() {
    return champion().flatMap(control::promotion);
  }

  /** The champion promoted before {@code version} (and not rolled back). */
  synchronized Optional<Long> championBefore(long version) {
    return promotedNewestFirst().filter(v -> v < version).findFirst();
  }

  /** Whether a DRIFT record was written for {@code version}. */
  synchronized boolean driftSignalled(long version) {
    return control.drift(version).isPresent();
  }

  /** Whether a ROLLBACK record was written for {@code version}. */
  synchronized boolean rolledBack(long version) {
    return control.rollback(version).isPresent();
  }

  /** Versions in canary (a CANARY record, no verdict), newest first. */
  private Stream<Long> canaries() {
    return catalog.newestFirst().stream()
        .map(ModelCatalog.Entry::version)
        .filter(v -> control.canary(v).isPresent() && !decided(v));
  }

  /** This replica wrote its verdict on {@code version}: it does not gate it again. */
  synchronized void judged(long version) {
    gatedHere.add(version);
  }

  /**
   * Checks that {@code version} can be pinned here and keeps its parameters until {@link
   * #pinSettled}; returns the pin record in force before (written back when the pin fails).
   *
   * @throws PinRefused when it is unknown, failed, or its parameters are no longer in memory
   */
  synchronized Optional<ModelControl> pinRequested(long version) {
    ModelCatalog.Entry e =
        catalog
            .get(version)
            .orElseThrow(
                () ->
                    new PinRefused(
                        true,
                        "model version "
                            + version
                            + " is unknown; GET /api/models lists the known versions"));
    if (e.failure != null) {
      throw new PinRefused(false, "v" + version + " cannot serve: " + e.failure);
    }
    if (e.checkpoint == null) {
      throw new PinRefused(
          false,
          "v"
              + version
              + " is older than the "
              + config.keepVersions()
              + " versions kept in memory (inference.keep-versions); restart the service to re-read it");
    }
    pinning.add(version);
    return control.pinRecord();
  }

  /** The pin of {@code version} serves or was undone: its parameters need no special keeping. */
  synchronized void pinSettled(long version) {
    pinning.remove(version);
  }

  /** Whether the pin of {@code version} is applied here and serves, or can never serve. */
  synchronized boolean pinDone(long version) {
    boolean failed = catalog.get(version).map(e -> e.failure != null).orElse(true);
    return failed || (pinned().filter(v -> v == version).isPresent() && serves(version));
  }

  /** Whether no pin is applied here and what should serve serves. */
  synchronized boolean following() {
    if (pinned().isPresent()) {
      return false;
    }
    Optional<Long> wanted = wanted().map(ModelCatalog.Entry::version);
    return wanted.isEmpty() || wanted.get().equals(serving);
  }

  /** Why {@code version} cannot serve, or "it vanished". */
  synchronized String failure(long version) {
    return catalog.get(version).map(e -> String.valueOf(e.failure)).orElse("it vanished");
  }

  /**
   * What retention deletes after {@code newChampion} was promoted: every checkpoint (under its own
   * key) but the newest {@code retention.keep-versions}, the champion, the pin, what serves and the
   * last {@code retention.keep-promoted} champions; empty when retention is off. Checkpoints
   * written under the bare model name (older builds) are left to compaction.
   *
   * @return the checkpoint keys and versions to delete
   */
  synchronized List<ModelCatalog.Entry> retired(long newChampion) {
    int keepNewest = config.retention().keepVersions();
    if (keepNewest <= 0) {
      return List.of();
    }
    Set<Long> keep = servingPinnedAndLastPromoted(config.retention().keepPromoted());
    keep.add(newChampion);
    List<ModelCatalog.Entry> doomed = new ArrayList<>();
    List<ModelCatalog.Entry> newest = catalog.newestFirst();
    for (int i = keepNewest; i < newest.size(); i++) {
      ModelCatalog.Entry e = newest.get(i);
      if (Checkpoint.versionOfKey(e.key) == e.version() && !keep.contains(e.version())) {
        doomed.add(e);
      }
    }
    return doomed;
  }

  /** Why {@code version} serves, in words, for the log. */
  synchronized String whyServes(long version) {
    if (pinned().filter(v -> v == version).isPresent()) {
      return "pinned";
    }
    if (config.policy() != Policy.GATED) {
      return "policy " + config.policy().name().toLowerCase();
    }
    return champion().filter(v -> v == version).isPresent()
        ? "champion"
        : "an earlier champion (the newer ones cannot load here)";
  }

  // ------------------------------------------------------------------------------- reads

  /** The champion: the newest promoted version with a verified checkpoint. */
  synchronized Optional<Long> champion() {
    return promotedNewestFirst().findFirst();
  }

  /** The fleet-wide pin, when it names a version with a verified checkpoint here. */
  synchronized Optional<Long> pinned() {
    return control.pinned().filter(v -> catalog.get(v).isPresent());
  }

  synchronized boolean decided(long version) {
    return verdict(version).isPresent();
  }

  /** Known checkpoints. */
  synchronized int versions() {
    return catalog.entries().size();
  }

  /** Versions whose parameters are in memory. */
  synchronized long held() {
    return catalog.entries().stream().filter(e -> e.checkpoint != null).count();
  }

  /** Whether {@code version} is known and its parameters are in memory. */
  synchronized boolean loadable(long version) {
    return catalog.get(version).filter(ModelCatalog.Entry::loadable).isPresent();
  }

  /**
   * A snapshot for {@code GET /api/models}, newest version first.
   *
   * @param shadow the candidate shadowing here, if any
   * @param canaryHere the canary that answers some requests here, if any
   */
  synchronized ModelView view(
      long swaps, Optional<ModelViews.Shadowing> shadow, Optional<Long> canaryHere) {
    Set<Long> candidates = new HashSet<>();
    catalog
        .candidates(config.gate().candidate())
        .values()
        .forEach(e -> candidates.add(e.version()));
    return ModelViews.of(
        new ModelViews.Facts(
            config.policy(),
            replicaId,
            caughtUp,
            serving,
            selected().map(ModelCatalog.Entry::version).orElse(null),
            champion().orElse(null),
            pinned().orElse(null),
            candidates,
            catalog.newestFirst(),
            this::verdict,
            control::promoted,
            v -> control.rollback(v).or(() -> verdict(v)).or(() -> control.canary(v)),
            canaryHere.orElse(null),
            canaries().findFirst().orElse(null),
            catalog.rejections(),
            control.history(),
            control.refused()),
        swaps,
        shadow.orElse(null));
  }

  // ------------------------------------------------------------------------------- rules

  /**
   * What the policy serves when nothing is pinned: the newest promoted version that can load here
   * (policy gated), else what {@link Selection} picks among the loadable checkpoints.
   */
  private Optional<ModelCatalog.Entry> selected() {
    if (config.policy() == Policy.GATED) {
      return promotedNewestFirst()
          .flatMap(v -> catalog.get(v).filter(ModelCatalog.Entry::loadable).stream())
          .findFirst();
    }
    List<Checkpoint.Header> loadable =
        catalog.entries().stream().filter(ModelCatalog.Entry::loadable).map(e -> e.header).toList();
    return Selection.select(config.policy(), loadable).flatMap(h -> catalog.get(h.modelVersion()));
  }

  /** The pin when it can load here, else the policy's choice. */
  private Optional<ModelCatalog.Entry> wanted() {
    Optional<ModelCatalog.Entry> pinned =
        pinned().flatMap(catalog::get).filter(ModelCatalog.Entry::loadable);
    return pinned.isPresent() ? pinned : selected();
  }

  /**
   * Versions whose parameters must stay in memory beyond the newest {@code keep-versions}: the
   * serving one, the pin (and one being pinned), what should serve, the newest {@code
   * retention.keep-promoted} promoted (what policy gated falls back to and what a rollback pins),
   * and (policy gated) the candidates still waiting for the gate. A bounded set: every version ever
   * promoted or every candidate ever seen would grow by a checkpoint's parameters (~254 KB) per
   * version.
   */
  private Set<Long> protectedVersions() {
    Set<Long> keep = servingPinnedAndLastPromoted(Math.max(1, config.retention().keepPromoted()));
    keep.addAll(pinning);
    wanted().ifPresent(e -> keep.add(e.version()));
    if (config.policy() == Policy.GATED) {
      undecidedCandidates().forEach(e -> keep.add(e.version()));
      canaries().forEach(keep::add);
    }
    return keep;
  }

  /** What serves, the pin, and the newest {@code promoted} promoted versions: never let go of. */
  private Set<Long> servingPinnedAndLastPromoted(int promoted) {
    Set<Long> keep = new HashSet<>();
    if (serving != null) {
      keep.add(serving);
    }
    pinned().ifPresent(keep::add);
    promotedNewestFirst().limit(promoted).forEach(keep::add);
    return keep;
  }

  /** Candidates of completed runs newer than the champion that no verdict has decided yet. */
  private Stream<ModelCatalog.Entry> undecidedCandidates() {
    long champion = champion().orElse(-1L);
    return catalog.candidates(config.gate().candidate()).values().stream()
        .filter(e -> e.version() > champion && !decided(e.version()))
        .filter(e -> control.canary(e.version()).isEmpty());
  }

  /**
   * Promoted versions that have a verified checkpoint here, newest first: a PROMOTE of a version no
   * trainer published (or one deleted since) changes nothing.
   */
  private Stream<Long> promotedNewestFirst() {
    return control.promotedNewestFirst().stream().filter(v -> catalog.get(v).isPresent());
  }

  /** The fleet's verdict on {@code version}: PROMOTE when any promotion names it, else REJECT. */
  private Optional<ModelControl> verdict(long version) {
    return control.verdict(version);
  }
}
