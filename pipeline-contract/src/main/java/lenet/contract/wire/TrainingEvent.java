package lenet.contract.wire;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * Progress of a training run, on {@code training.events} (key = runId). Fields that do not apply to
 * a type are null and left out of the JSON. Accuracies are fractions in [0,1].
 */
public record TrainingEvent(
    String runId,
    Type type,
    Integer epoch,
    Integer epochs,
    Double loss,
    Double accuracy,
    Double devLoss,
    Double devAccuracy,
    Double testLoss,
    Double testAccuracy,
    Long modelVersion,
    Double seconds,
    Double imagesPerSecond,
    String device,
    String message,
    long timestamp,
    Integer position) {

  /** What happened; QUEUED comes first (a valid command accepted), one of the last three ends. */
  public enum Type {
    STARTED,
    EPOCH,
    COMPLETED,
    FAILED,
    QUEUED,
    CANCELLED;

    /** Whether the run is over. */
    public boolean ends() {
      return this == COMPLETED || this == FAILED || this == CANCELLED;
    }
  }

  public static TrainingEvent started(String runId, int epochs, String device, String message) {
    return new TrainingEvent(
        runId,
        Type.STARTED,
        null,
        epochs,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        device,
        message,
        System.currentTimeMillis(),
        null);
  }

  public static TrainingEvent epoch(
      String runId, int epoch, int epochs, EpochMetrics m, long version) {
    return new TrainingEvent(
        runId,
        Type.EPOCH,
        epoch,
        epochs,
        m.loss(),
        m.accuracy(),
        m.devLoss(),
        m.devAccuracy(),
        null,
        null,
        version,
        m.seconds(),
        m.imagesPerSecond(),
        null,
        null,
        System.currentTimeMillis(),
        null);
  }

  public static TrainingEvent completed(
      String runId,
      int epochs,
      double testLoss,
      double testAccuracy,
      long version,
      double seconds) {
    return new TrainingEvent(
        runId,
        Type.COMPLETED,
        epochs,
        epochs,
        null,
        null,
        null,
        null,
        testLoss,
        testAccuracy,
        version,
        seconds,
        null,
        null,
        null,
        System.currentTimeMillis(),
        null);
  }

  public static TrainingEvent failed(String runId, String message) {
    return new TrainingEvent(
        runId,
        Type.FAILED,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        message,
        System.currentTimeMillis(),
        null);
  }

  /**
   * A valid command accepted: {@code position} 1 is next to run (after the one running, if any).
   */
  public static TrainingEvent queued(String runId, int epochs, int position, String settings) {
    return new TrainingEvent(
        runId,
        Type.QUEUED,
        null,
        epochs,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        settings,
        System.currentTimeMillis(),
        position);
  }

  /** The run was cancelled before it started, or after {@code epochsDone} epochs. */
  public static TrainingEvent cancelled(String runId, Integer epochsDone, String message) {
    return new TrainingEvent(
        runId,
        Type.CANCELLED,
        epochsDone,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        message,
        System.currentTimeMillis(),
        null);
  }

  /** One epoch's numbers: training loss/accuracy, dev loss/accuracy, and its speed. */
  public record EpochMetrics(
      double loss,
      double accuracy,
      double devLoss,
      double devAccuracy,
      double seconds,
      double imagesPerSecond) {}

  public byte[] encode() {
    return Json.write(this);
  }

  private static final Set<String> TYPES =
      java.util.Arrays.stream(Type.values())
          .map(Type::name)
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  public static TrainingEvent decode(byte[] json) {
    ObjectNode node = Json.readObject(json, 1 << 20, "training event");
    String type = Json.optString(node, "type");
    if (type == null || !TYPES.contains(type)) {
      throw new WireFormatException(
          Reason.INVALID_VALUE, "'type' must be one of " + TYPES + ", got " + type);
    }
    try {
      return Json.MAPPER.treeToValue(node, TrainingEvent.class);
    } catch (Exception e) {
      throw new WireFormatException(Reason.WRONG_TYPE, "training event: " + e.getMessage(), e);
    }
  }
}
