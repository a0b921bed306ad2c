package lenet.inference.model;

import java.time.Instant;
import java.util.List;
import lenet.contract.wire.ModelControl;

/**
 * The whole model state of one replica, as {@code GET /api/models} shows it.
 *
 * @param policy how the serving version is chosen when nothing is pinned
 * @param serving the version that answers requests here
 * @param pinned the fleet-wide pin, if any
 * @param champion the newest promoted version (policy {@code gated})
 * @param caughtUp whether this replica has read the checkpoint and control topics up to where they
 *     ended when it started: before that, "no model" means "not known yet"
 * @param canary the fleet's canary: a candidate that passed its gate and answers {@code
 *     inference.canary.fraction} of live traffic until its live accuracy decides it
 * @param canaryHere the canary as this replica runs it (null until loaded here)
 * @param replica this replica's name in the control history
 * @param reloads models swapped in since start
 * @param versions every known checkpoint, newest first
 * @param rejected refused checkpoints, newest first
 * @param history applied control records, newest first
 * @param refusedControl control records that changed nothing (unsigned, signed by an untrusted key,
 *     stored under another key, beyond what their signer may decide), newest first
 */
public record ModelView(
    String policy,
    Mode mode,
    Long serving,
    Long pinned,
    Long champion,
    boolean caughtUp,
    Long canary,
    Long canaryHere,
    String replica,
    long reloads,
    List<Version> versions,
    List<Rejection> rejected,
    List<Control> history,
    List<Rejection> refusedControl) {

  /** Whether the policy or a person picks the serving version. */
  public enum Mode {
    FOLLOWING,
    PINNED
  }

  /** Where a checkpoint stands in the lifecycle. */
  public enum Status {
    /** The newest promoted version. */
    CHAMPION,
    /** A former champion. */
    PROMOTED,
    /** A completed run's candidate that the gate refused. */
    REJECTED,
    /** A candidate that passed its gate and is scoring live traffic in the champion's shadow. */
    SHADOW,
    /** A candidate that passed its gate and answers a share of live traffic until it is judged. */
    CANARY,
    /** A former champion that did worse on live traffic than the one before it. */
    ROLLED_BACK,
    /** A completed run's candidate waiting for its gate. */
    CANDIDATE,
    /** A candidate never gated because a newer one came (or is older than the champion). */
    SUPERSEDED,
    /** An epoch of a run that is not its candidate; serves only when pinned (or policy latest). */
    EPOCH,
    /** Cannot serve: it failed to load or warm up. */
    FAILED
  }

  /**
   * A known checkpoint.
   *
   * @param selectedByPolicy what the policy serves when nothing is pinned
   * @param activatable whether it can be pinned here
   * @param gate what the gate measured (its own accuracy, not the checkpoint's claim)
   * @param verdict the gate's verdict in words
   * @param shadow its shadow figures, live while it shadows, else as recorded at its verdict
   * @param liveDecision the live figures of its last decision on them (canary, verdict, rollback)
   */
  public record Version(
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
      Status status,
      boolean serving,
      boolean selectedByPolicy,
      boolean activatable,
      String failure,
      ModelControl.Gate gate,
      String verdict,
      ModelControl.Shadow shadow,
      ModelControl.Live liveDecision) {}

  /** A checkpoint that was refused, and why. */
  public record Rejection(Instant at, String source, String reason, String message) {}

  /** One applied control record: who changed what, when, from which replica. */
  public record Control(
      Instant at, String type, Long version, String by, String reason, String source) {}
}
