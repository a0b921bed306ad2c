package lenet.inference.model;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;

/** Builds {@link ModelView}, the replica's model state as {@code GET /api/models} shows it. */
final class ModelViews {

  private ModelViews() {}

  /** A snapshot, newest version first. */
  static ModelView of(
      ModelManager.Settings settings,
      ModelState state,
      Optional<Long> serving,
      long swaps,
      Optional<ShadowRun> shadow) {
    synchronized (state) {
      Long servingVersion = serving.orElse(null);
      Long selected = state.selected().map(ModelCatalog.Entry::version).orElse(null);
      Long champion = state.champion().orElse(null);
      Long pinned = state.pinned().orElse(null);
      Set<Long> candidateVersions = state.candidateVersions();
      long newestCandidate = candidateVersions.stream().mapToLong(Long::longValue).max().orElse(-1);
      ShadowRun s = shadow.orElse(null);
      List<ModelView.Version> versions = new ArrayList<>();
      for (ModelCatalog.Entry k : state.catalog.newestFirst()) {
        Checkpoint.Header h = k.header;
        long v = h.modelVersion();
        Optional<ModelControl> verdict = state.verdict(v);
        ModelView.Status status;
        if (k.failure != null) {
          status = ModelView.Status.FAILED;
        } else if (champion != null && champion == v) {
          status = ModelView.Status.CHAMPION;
        } else if (state.control.promoted(v)) {
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
          state.caughtUp,
          settings.replicaId(),
          swaps,
          List.copyOf(versions),
          state.catalog.rejections(),
          state.control.history(),
          state.control.refused());
    }
  }
}
