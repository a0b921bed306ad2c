package lenet.contract.wire;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * Progress of a training run, on {@code training.events} (key = runId): one of six event types,
 * bound by the JSON field {@code type}. Each type carries only its own fields (all present);
 * accuracies are fractions in [0,1], {@code timestamp} is epoch milliseconds. A run's events come
 * in the order QUEUED, STARTED, EPOCH..., then one of COMPLETED, FAILED or CANCELLED; a run that
 * was cut short (the trainer killed) has a second STARTED, with {@code resumedFrom} when it goes on
 * from its last checkpoint.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = TrainingEvent.Queued.class, name = "QUEUED"),
  @JsonSubTypes.Type(value = TrainingEvent.Started.class, name = "STARTED"),
  @JsonSubTypes.Type(value = TrainingEvent.Epoch.class, name = "EPOCH"),
  @JsonSubTypes.Type(value = TrainingEvent.Completed.class, name = "COMPLETED"),
  @JsonSubTypes.Type(value = TrainingEvent.Failed.class, name = "FAILED"),
  @JsonSubTypes.Type(value = TrainingEvent.Cancelled.class, name = "CANCELLED")
})
public sealed interface TrainingEvent {

  String runId();

  long timestamp();

  /** The event's type, as in its JSON {@code type} field; switch on it to handle every type. */
  @JsonIgnore
  Type type();

  /** What happened; QUEUED comes first (a valid command accepted), one of the last three ends. */
  enum Type {
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

  /**
   * A valid command accepted: {@code position} 1 is next to run (after the one running, if any);
   * {@code message} lists the run's settings.
   */
  record Queued(String runId, int epochs, int position, String message, long timestamp)
      implements TrainingEvent {
    @Override
    public Type type() {
      return Type.QUEUED;
    }
  }

  /**
   * The run began (or began again after the trainer was cut short) on {@code device}; {@code
   * message} lists its settings. {@code resumedFrom}, when set, is the epoch whose checkpoint it
   * goes on from (its next EPOCH is {@code resumedFrom + 1}); null for a start from scratch. {@code
   * resumeRefused}, when set, says why a run that was cut short starts from scratch instead (its
   * checkpoint is gone, or does not verify as the trainer's own for this run and epoch).
   */
  record Started(
      String runId,
      int epochs,
      String device,
      String message,
      Integer resumedFrom,
      String resumeRefused,
      long timestamp)
      implements TrainingEvent {
    @Override
    public Type type() {
      return Type.STARTED;
    }
  }

  /** An epoch ended and its checkpoint is stored as {@code modelVersion}. */
  record Epoch(
      String runId,
      int epoch,
      int epochs,
      double loss,
      double accuracy,
      double devLoss,
      double devAccuracy,
      double seconds,
      double imagesPerSecond,
      long modelVersion,
      long timestamp)
      implements TrainingEvent {
    @Override
    public Type type() {
      return Type.EPOCH;
    }
  }

  /**
   * The run trained all {@code epochs} ({@code epoch} = {@code epochs}); its final checkpoint is
   * {@code modelVersion}, measured on the test split. {@code seconds} is the run's training time.
   */
  record Completed(
      String runId,
      int epoch,
      int epochs,
      double testLoss,
      double testAccuracy,
      long modelVersion,
      double seconds,
      long timestamp)
      implements TrainingEvent {
    @Override
    public Type type() {
      return Type.COMPLETED;
    }
  }

  /** The run (or its command) failed, for the reason {@code message} gives. */
  record Failed(String runId, String message, long timestamp) implements TrainingEvent {
    @Override
    public Type type() {
      return Type.FAILED;
    }
  }

  /** The run was cancelled before it started ({@code epoch} 0) or after {@code epoch} epochs. */
  record Cancelled(String runId, int epoch, String message, long timestamp)
      implements TrainingEvent {
    @Override
    public Type type() {
      return Type.CANCELLED;
    }
  }

  static Queued queued(String runId, int epochs, int position, String settings) {
    return new Queued(runId, epochs, position, settings, now());
  }

  static Started started(String runId, int epochs, String device, String settings) {
    return resumed(runId, epochs, device, settings, null);
  }

  /** A start that goes on from the checkpoint of epoch {@code resumedFrom} (null: from scratch). */
  static Started resumed(
      String runId, int epochs, String device, String settings, Integer resumedFrom) {
    return new Started(runId, epochs, device, settings, resumedFrom, null, now());
  }

  /** A run cut short that starts again from scratch, for the reason {@code resumeRefused}. */
  static Started notResumed(
      String runId, int epochs, String device, String settings, String resumeRefused) {
    return new Started(runId, epochs, device, settings, null, resumeRefused, now());
  }

  static Epoch epoch(String runId, int epoch, int epochs, EpochMetrics m, long version) {
    return new Epoch(
        runId,
        epoch,
        epochs,
        m.loss(),
        m.accuracy(),
        m.devLoss(),
        m.devAccuracy(),
        m.seconds(),
        m.imagesPerSecond(),
        version,
        now());
  }

  static Completed completed(
      String runId,
      int epochs,
      double testLoss,
      double testAccuracy,
      long version,
      double seconds) {
    return new Completed(runId, epochs, epochs, testLoss, testAccuracy, version, seconds, now());
  }

  static Failed failed(String runId, String message) {
    return new Failed(runId, message, now());
  }

  static Cancelled cancelled(String runId, int epochsDone, String message) {
    return new Cancelled(runId, epochsDone, message, now());
  }

  private static long now() {
    return System.currentTimeMillis();
  }

  /** One epoch's numbers: training loss/accuracy, dev loss/accuracy, and its speed. */
  record EpochMetrics(
      double loss,
      double accuracy,
      double devLoss,
      double devAccuracy,
      double seconds,
      double imagesPerSecond) {}

  default byte[] encode() {
    return Json.write(this);
  }

  /**
   * Decodes an event of any type.
   *
   * @throws WireFormatException when it is not JSON, has no known {@code type} or a field of the
   *     wrong type
   */
  static TrainingEvent decode(byte[] json) {
    ObjectNode node = Json.readObject(json, 1 << 20, "training event");
    String type = Json.optString(node, "type");
    if (Arrays.stream(Type.values()).noneMatch(t -> t.name().equals(type))) {
      throw new WireFormatException(
          Reason.INVALID_VALUE,
          "'type' must be one of " + Arrays.toString(Type.values()) + ", got " + type);
    }
    try {
      return Json.MAPPER.treeToValue(node, TrainingEvent.class);
    } catch (Exception e) {
      throw new WireFormatException(Reason.WRONG_TYPE, "training event: " + e.getMessage(), e);
    }
  }
}
