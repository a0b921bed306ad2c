package lenet.inference.model;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;
import lenet.inference.config.InferenceConfig.CandidateChoice;
import lenet.inference.config.InferenceConfig.Policy;
import lenet.model.LeNet5;

/**
 * What one replica knows of the model lifecycle, and the rules that read it: the checkpoints
 * (catalog), the fleet-wide decisions (control), which version should serve, and which candidate is
 * next for the gate. Callers synchronize on this object; it is the one lock of the lifecycle.
 */
final class ModelState {

  final ModelCatalog catalog = new ModelCatalog();
  final ControlState control = new ControlState(LeNet5.MODEL_NAME);

  /** Candidates this replica wrote a verdict for (until the record comes back from Kafka). */
  final Set<Long> gatedHere = new HashSet<>();

  /**
   * Versions this replica asked to pin, until the pin serves or is undone: their parameters must
   * not be evicted while the pin record travels.
   */
  final Set<Long> pinning = new HashSet<>();

  /** Whether the follower has read both topics to where they ended at start. */
  boolean caughtUp;

  private final Policy policy;
  private final CandidateChoice candidateChoice;
  private final int promotedKept;

  /**
   * @param promotedKept promoted versions whose parameters stay in memory however old they are (the
   *     champion and the ones before it, what policy gated falls back to and what a rollback pins):
   *     as many as retention keeps on the topic ({@code inference.retention.keep-promoted})
   */
  ModelState(Policy policy, CandidateChoice candidateChoice, int promotedKept) {
    this.policy = policy;
    this.candidateChoice = candidateChoice;
    this.promotedKept = Math.max(1, promotedKept);
  }

  /**
   * What the policy serves when nothing is pinned: the newest promoted version that can load here
   * (policy gated), else what {@link Selection} picks among the loadable checkpoints.
   */
  Optional<ModelCatalog.Entry> selected() {
    if (policy == Policy.GATED) {
      for (long v : promotedNewestFirst()) {
        Optional<ModelCatalog.Entry> e = catalog.get(v).filter(ModelCatalog.Entry::loadable);
        if (e.isPresent()) {
          return e;
        }
      }
      return Optional.empty();
    }
    List<Checkpoint.Header> loadable =
        catalog.entries().stream().filter(ModelCatalog.Entry::loadable).map(e -> e.header).toList();
    return Selection.select(policy, loadable).flatMap(h -> catalog.get(h.modelVersion()));
  }

  /** The pin when it can load here, else the policy's choice. */
  Optional<ModelCatalog.Entry> wanted() {
    Optional<ModelCatalog.Entry> pinned =
        pinned().flatMap(catalog::get).filter(ModelCatalog.Entry::loadable);
    return pinned.isPresent() ? pinned : selected();
  }

  /**
   * Versions whose parameters must stay in memory beyond the newest {@code keep-versions}: the
   * serving one, the pin (and one being pinned), what should serve, the newest {@code promotedKept}
   * promoted, and (policy gated) the candidates still waiting for the gate. A bounded set: every
   * version ever promoted or every candidate ever seen would grow by a checkpoint's parameters
   * (~254 KB) per version.
   */
  Set<Long> protectedVersions(Optional<Long> serving) {
    Set<Long> keep = new HashSet<>();
    serving.ifPresent(keep::add);
    pinned().ifPresent(keep::add);
    keep.addAll(pinning);
    promotedNewestFirst().stream().limit(promotedKept).forEach(keep::add);
    wanted().ifPresent(e -> keep.add(e.version()));
    if (policy == Policy.GATED) {
      undecidedCandidates().forEach(e -> keep.add(e.version()));
    }
    return keep;
  }

  /** Candidates of completed runs newer than the champion that no verdict has decided yet. */
  private Stream<ModelCatalog.Entry> undecidedCandidates() {
    long champion = champion().orElse(-1L);
    return catalog.candidates(candidateChoice).values().stream()
        .filter(e -> e.version() > champion && !decided(e.version()));
  }

  // ------------------------------------------------ the control records, read against the catalog

  /**
   * Promoted versions that have a verified checkpoint here, newest first: a PROMOTE of a version no
   * trainer published (or one deleted since) changes nothing.
   */
  List<Long> promotedNewestFirst() {
    return control.promotedNewestFirst().stream().filter(v -> catalog.get(v).isPresent()).toList();
  }

  /** The champion: the newest promoted version with a verified checkpoint. */
  Optional<Long> champion() {
    return control.promotedNewestFirst().stream()
        .filter(v -> catalog.get(v).isPresent())
        .findFirst();
  }

  /** The fleet-wide pin, when it names a version with a verified checkpoint here. */
  Optional<Long> pinned() {
    return control.pinned().filter(v -> catalog.get(v).isPresent());
  }

  /**
   * The verdict on {@code version}: the fleet's (a promotion wins), else a trainer's REJECT when
   * the version is a checkpoint of the run it names.
   */
  Optional<ModelControl> verdict(long version) {
    Optional<ModelControl> fleet = control.verdict(version);
    if (fleet.isPresent()) {
      return fleet;
    }
    Optional<String> runId = catalog.get(version).map(e -> e.header.runId());
    return control
        .runRejection(version)
        .filter(r -> runId.isPresent() && r.runId().equals(runId.get()));
  }

  boolean decided(long version) {
    return verdict(version).isPresent();
  }

  /** A checkpoint deleted from the topic: it and the verdicts on it are forgotten. */
  void remove(long version) {
    catalog.remove(version);
    control.forgetVersion(version);
  }

  /**
   * The newest undecided candidate of a completed run that is newer than the champion, not being
   * shadowed and not already judged here.
   */
  Optional<ModelCatalog.Entry> nextCandidate(Optional<Long> shadowing) {
    return undecidedCandidates()
        .filter(e -> !gatedHere.contains(e.version()))
        .filter(e -> shadowing.filter(v -> v == e.version()).isEmpty())
        .filter(e -> e.checkpoint != null)
        .max((a, b) -> Long.compare(a.version(), b.version()));
  }

  /** Versions that are candidates of completed runs. */
  Set<Long> candidateVersions() {
    Set<Long> out = new HashSet<>();
    catalog.candidates(candidateChoice).values().forEach(e -> out.add(e.version()));
    return out;
  }
}
