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
    String reason) {

  public enum Type {
    PROMOTE,
    REJECT,
    PIN,
    FOLLOW
  }

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
      long millis) {}

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
      case PROMOTE, REJECT -> verdictKey(model, version, type);
    };
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
