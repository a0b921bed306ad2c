package lenet.inference.model;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongPredicate;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;
import lenet.inference.config.InferenceConfig.Policy;

/** Builds {@link ModelView}, the replica's model state as {@code GET /api/models} shows it. */
final class ModelViews {

  private ModelViews() {}

  /** What {@link ModelState} knows and has decided, as the view reads it. */
  record Facts(
      Policy policy,
      String replica,
      boolean caughtUp,
      Long serving,
      Long selected,
      Long champion,
      Long pinned,
      Set<Long> candidates,
      List<ModelCatalog.Entry> newestFirst,
      Function<Long, Optional<ModelControl>> verdict,
      LongPredicate promoted,
      Function<Long, Optional<ModelControl>> lastDecision,
      Long canaryHere,
      Long canary,
      List<ModelView.Rejection> rejected,
      List<ModelView.Control> history,
      List<ModelView.Rejection> refused) {}

  /** The candidate shadowing the champion here: its gate and its figures so far. */
  record Shadowing(long version, ModelControl.Gate gate, ModelControl.Shadow figures) {}

  /** A snapshot, newest version first. */
  static ModelView of(Facts f, long swaps, Shadowing s) {
    long newestCandidate = f.candidates().stream().mapToLong(Long::longValue).max().orElse(-1);
    Long champion = f.champion();
    List<ModelView.Version> versions = new ArrayList<>();
    for (ModelCatalog.Entry k : f.newestFirst()) {
      Checkpoint.Header h = k.header;
      long v = h.modelVersion();
      Optional<ModelControl> verdict = f.verdict().apply(v);
      boolean shadowing = s != null && s.version() == v;
      ModelView.Status status;
      Optional<ModelControl> decision = f.lastDecision().apply(v);
      if (k.failure != null) {
        status = ModelView.Status.FAILED;
      } else if (champion != null && champion == v) {
        status = ModelView.Status.CHAMPION;
      } else if (decision.filter(d -> d.type() == ModelControl.Type.ROLLBACK).isPresent()) {
        status = ModelView.Status.ROLLED_BACK;
      } else if (f.canary() != null && f.canary() == v) {
        status = ModelView.Status.CANARY;
      } else if (f.promoted().test(v)) {
        status = ModelView.Status.PROMOTED;
      } else if (verdict.isPresent()) {
        status = ModelView.Status.REJECTED;
      } else if (shadowing) {
        status = ModelView.Status.SHADOW;
      } else if (f.candidates().contains(v)) {
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
              f.serving() != null && f.serving() == v,
              f.selected() != null && f.selected() == v,
              k.loadable(),
              k.failure,
              verdict.map(ModelControl::gate).orElse(shadowing ? s.gate() : null),
              verdict.map(ModelControl::reason).orElse(null),
              shadowing ? s.figures() : verdict.map(ModelControl::shadow).orElse(null),
              decision.map(ModelControl::live).orElse(null)));
    }
    return new ModelView(
        f.policy().name().toLowerCase(),
        f.pinned() == null ? ModelView.Mode.FOLLOWING : ModelView.Mode.PINNED,
        f.serving(),
        f.pinned(),
        champion,
        f.caughtUp(),
        f.canary(),
        f.canaryHere(),
        f.replica(),
        swaps,
        List.copyOf(versions),
        f.rejected(),
        f.history(),
        f.refused());
  }
}
