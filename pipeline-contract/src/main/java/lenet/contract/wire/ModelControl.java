package lenet.contract.wire;

import lenet.contract.wire.WireFormatException.Reason;

/**
 * One fleet-wide decision about which model serves, on the compacted {@code model.control} topic.
 * Every inference replica applies these in order; one that starts later replays them and serves the
 * same model.
 *
 * <ul>
 *   <li>{@code PROMOTE} / {@code REJECT}: the gate's verdict on candidate {@code version}, with
 *       what it measured. Key {@code <model>/v<version>/promote} or {@code .../reject}: a version
 *       with any PROMOTE record is promoted, whatever else was written about it, so two replicas
 *       that gate the same candidate at once decide once, in any order, before or after compaction.
 *       The champion is the newest promoted version that has a verified checkpoint.
 *   <li>{@code PIN} (rollback or roll-forward to {@code version}) and {@code FOLLOW} (serve the
 *       champion again): key {@code <model>/pin}; the last one written holds.
 *   <li>{@code CANARY}: candidate {@code version} passed its gate and answers a fraction of live
 *       traffic ({@link Live#fraction}) until its live accuracy decides it (a PROMOTE or REJECT
 *       record, with the {@link Live} figures). Key {@code <model>/v<version>/canary}.
 *   <li>{@code ROLLBACK}: champion {@code version} did worse on live traffic than the champion
 *       before it, by more than the tolerance: it is no longer promoted, whatever PROMOTE says, and
 *       the champion before it serves again. Key {@code <model>/v<version>/rollback}.
 *   <li>{@code DRIFT}: champion {@code version}'s live accuracy or confidence moved away from what
 *       its gate measured by more than the setting; changes nothing, says so. Key {@code
 *       <model>/v<version>/drift}.
 * </ul>
 *
 * <p>Only the inference fleet writes this topic, and every record is signed (headers of {@link
 * CheckpointSignature}) over its value by the fleet's control key. Readers act only on records that
 * verify and whose key is {@link #key()} (see {@code ControlTrust} in inference). A cancelled run
 * needs no record: it never publishes its final epoch, so it never has a candidate.
 *
 * @param by the replica (or tool) that wrote it
 * @param at epoch milliseconds when it was written
 * @param reason why, in words (the gate's verdict, who pinned)
 */
public record ModelControl(
    Type type,
    String model,
    Long version,
    Gate gate,
    Shadow shadow,
    String by,
    long at,
    String reason,
    Live live) {

  public enum Type {
    PROMOTE,
    REJECT,
    PIN,
    FOLLOW,
    CANARY,
    ROLLBACK,
    DRIFT
  }

  /** A control record without live figures (gate verdicts, pins, follows). */
  public ModelControl(
      Type type,
      String model,
      Long version,
      Gate gate,
      Shadow shadow,
      String by,
      long at,
      String reason) {
    this(type, model, version, gate, shadow, by, at, reason, null);
  }

  /**
   * One model version's labelled live outcomes, or the part of them a decision counts.
   *
   * @param labelled predictions with a label
   * @param correct those whose label is the predicted digit
   * @param confidenceSum the sum of the model's confidence over them
   */
  public record Tally(long version, long labelled, long correct, double confidenceSum) {

    /** Correct over labelled; NaN while nothing is labelled. */
    public double accuracy() {
      return labelled == 0 ? Double.NaN : (double) correct / labelled;
    }

    /** Mean confidence; NaN while nothing is labelled. */
    public double meanConfidence() {
      return labelled == 0 ? Double.NaN : confidenceSum / labelled;
    }

    /** What was added since {@code earlier} (a tally of the same version). */
    public Tally since(Tally earlier) {
      return earlier == null
          ? this
          : new Tally(
              version,
              labelled - earlier.labelled,
              correct - earlier.correct,
              confidenceSum - earlier.confidenceSum);
    }
  }

  /**
   * The live figures a canary, rollback or drift decision was taken on.
   *
   * @param subject the version decided on: what it counted over the period that matters (for a
   *     canary, since it began; for a rollback, since its promotion)
   * @param baseline what it was held against: the champion over the canary's period (canary, and
   *     rollback: the figures of the canary that promoted it); null for drift
   * @param gateAccuracy for drift: what the gate measured on the dev split
   * @param low the lower bound of (subject - baseline) accuracy at {@code confidence} (one-sided)
   * @param high the upper bound of the same
   * @param confidence the test's confidence, e.g. 0.95
   * @param tolerance how much worse than the baseline still counts as not worse
   * @param fraction CANARY: the share of live traffic the candidate answers
   * @param start CANARY: the champion's and the candidate's tallies when the canary began (the
   *     period is measured from them); PROMOTE after a canary: the subject's tally at promotion
   */
  public record Live(
      Tally subject,
      Tally baseline,
      Double gateAccuracy,
      double low,
      double high,
      double confidence,
      double tolerance,
      Double fraction,
      java.util.List<Tally> start) {}

  /**
   * What the gate measured: the candidate scored by the inference service itself on a held-out
   * split read from Kafka, beside the champion it had to match.
   *
   * @param accuracy the candidate's measured accuracy on {@code images} images of {@code split}
   * @param finite whether every output was a finite probability
   * @param championVersion the champion at the time, null when there was none
   * @param championAccuracy the champion's accuracy on the same images, null without one
   * @param tolerance how much lower than the champion's the candidate's accuracy may be
   * @param millis how long loading, warming and scoring took
   * @param meanConfidence the candidate's mean confidence (its top probability) on those images,
   *     null where not measured (records of earlier builds): what drift of the confidence is
   *     measured from
   */
  public record Gate(
      String split,
      String datasetId,
      int images,
      double accuracy,
      boolean finite,
      Long championVersion,
      Double championAccuracy,
      double tolerance,
      long millis,
      Double meanConfidence) {

    /** A gate's figures without its mean confidence. */
    public Gate(
        String split,
        String datasetId,
        int images,
        double accuracy,
        boolean finite,
        Long championVersion,
        Double championAccuracy,
        double tolerance,
        long millis) {
      this(
          split,
          datasetId,
          images,
          accuracy,
          finite,
          championVersion,
          championAccuracy,
          tolerance,
          millis,
          null);
    }
  }

  /**
   * The candidate's shadow run beside the champion on live traffic, when shadowing is on.
   *
   * @param images live images the candidate scored in the shadow of the champion
   * @param agreement fraction of those where both predicted the same digit
   * @param meanMillis the candidate's mean forward-pass time per batch
   */
  public record Shadow(long images, double agreement, double meanMillis) {}

  public static ModelControl pin(String model, long version, String by, String reason) {
    return new ModelControl(
        Type.PIN, model, version, null, null, by, System.currentTimeMillis(), reason);
  }

  public static ModelControl follow(String model, String by, String reason) {
    return new ModelControl(
        Type.FOLLOW, model, null, null, null, by, System.currentTimeMillis(), reason);
  }

  public static ModelControl verdict(
      boolean promote,
      String model,
      long version,
      Gate gate,
      Shadow shadow,
      String by,
      String reason) {
    return new ModelControl(
        promote ? Type.PROMOTE : Type.REJECT,
        model,
        version,
        gate,
        shadow,
        by,
        System.currentTimeMillis(),
        reason);
  }

  /** The record key: what compaction keeps one of. */
  public String key() {
    return switch (type) {
      case PIN, FOLLOW -> pinKey(model);
      case PROMOTE, REJECT, CANARY, ROLLBACK, DRIFT -> verdictKey(model, version, type);
    };
  }

  /** A record about live figures (CANARY, ROLLBACK, DRIFT, or PROMOTE / REJECT of a canary). */
  public static ModelControl live(
      Type type, String model, long version, Gate gate, Live live, String by, String reason) {
    return new ModelControl(
        type, model, version, gate, null, by, System.currentTimeMillis(), reason, live);
  }

  public static String pinKey(String model) {
    return model + "/pin";
  }

  public static String verdictKey(String model, long version, Type verdict) {
    return model + "/v" + version + "/" + verdict.name().toLowerCase();
  }

  public byte[] encode() {
    return Json.write(this);
  }

  /**
   * @throws WireFormatException when the record is not a control record this build understands
   */
  public static ModelControl decode(byte[] json) {
    ModelControl c;
    try {
      c =
          Json.MAPPER.treeToValue(
              Json.readObject(json, 64 * 1024, "model control record"), ModelControl.class);
    } catch (WireFormatException e) {
      throw e;
    } catch (Exception e) {
      throw new WireFormatException(
          Reason.WRONG_TYPE, "model control record: " + e.getMessage(), e);
    }
    if (c.type() == null || c.model() == null) {
      throw new WireFormatException(
          Reason.MISSING_FIELD, "model control record lacks 'type' or 'model'");
    }
    if (c.type() != Type.FOLLOW && c.version() == null) {
      throw new WireFormatException(
          Reason.MISSING_FIELD, "model control record " + c.type() + " lacks 'version'");
    }
    return c;
  }
}
