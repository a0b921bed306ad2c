package lenet.contract.wire;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Map;
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
   * checkpoint is gone, or does not verify as the trainer's own for this run and epoch). What it
   * trains on: the dataset copy {@code datasetId} and, when the command asked for it, the labelled
   * {@code feedback} read from Kafka (null otherwise).
   */
  record Started(
      String runId,
      int epochs,
      String device,
      String message,
      Integer resumedFrom,
      String resumeRefused,
      String datasetId,
      FeedbackUsed feedback,
      long timestamp)
      implements TrainingEvent {
    @Override
    public Type type() {
      return Type.STARTED;
    }
  }

  /**
   * The labelled feedback a run read, enough to read the same again: {@code endOffsets}, per topic
   * and partition, is where it stopped reading (the end offsets when the run started) on the
   * labels, images and predictions topics. Counts: {@code labels} label records read (tombstones
   * included), {@code labelled} ids with a label after them (each id's newest label; a tombstone
   * removes it), {@code found} of those with an image, {@code missing} without one (never sent, or
   * past the image topic's retention), {@code undecodable} with an image that does not decode; of
   * the found, {@code heldOut} (chosen by a hash of the id, {@code heldOutShare} of them) are
   * measured each epoch and never trained on, and {@code training} are mixed into the training
   * split, which then holds {@code trainImages} images (at most {@code share} of them feedback).
   */
  record FeedbackUsed(
      double share,
      double heldOutShare,
      Map<String, Map<Integer, Long>> endOffsets,
      int labels,
      int labelled,
      int found,
      int missing,
      int undecodable,
      int heldOut,
      int training,
      int trainImages) {}

  /**
   * An epoch ended and its checkpoint is stored as {@code modelVersion}. {@code feedbackAccuracy}
   * is measured on the {@code feedbackImages} held-out feedback images, when the run trains on
   * feedback and holds some out (null otherwise). {@code rawDevAccuracy} is the raw weights' dev
   * accuracy when the run keeps a moving average of its weights ({@code trainer.ema-decay}), whose
   * figures {@code devAccuracy} and the checkpoint then are (null otherwise).
   */
  record Epoch(
      String runId,
      int epoch,
      int epochs,
      double loss,
      double accuracy,
      double devLoss,
      double devAccuracy,
      Double feedbackAccuracy,
      Integer feedbackImages,
      Double rawDevAccuracy,
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
   * {@code modelVersion}, measured on the test split, and on the held-out feedback as its last
   * EPOCH says ({@code feedbackAccuracy} over {@code feedbackImages}, null without). {@code
   * seconds} is the run's training time.
   */
  record Completed(
      String runId,
      int epoch,
      int epochs,
      double testLoss,
      double testAccuracy,
      Double feedbackAccuracy,
      Integer feedbackImages,
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

  /** What a run trains on: a dataset copy, and the feedback it read (null: none asked for). */
  record Data(String datasetId, FeedbackUsed feedback) {}

  static Started started(String runId, int epochs, String device, String settings, Data data) {
    return resumed(runId, epochs, device, settings, data, null);
  }

  /** A start that goes on from the checkpoint of epoch {@code resumedFrom} (null: from scratch). */
  static Started resumed(
      String runId, int epochs, String device, String settings, Data data, Integer resumedFrom) {
    return new Started(
        runId,
        epochs,
        device,
        settings,
        resumedFrom,
        null,
        data.datasetId(),
        data.feedback(),
        now());
  }

  /** A run cut short that starts again from scratch, for the reason {@code resumeRefused}. */
  static Started notResumed(
      String runId, int epochs, String device, String settings, Data data, String resumeRefused) {
    return new Started(
        runId,
        epochs,
        device,
        settings,
        null,
        resumeRefused,
        data.datasetId(),
        data.feedback(),
        now());
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
        m.feedbackAccuracy(),
        m.feedbackImages(),
        m.rawDevAccuracy(),
        m.seconds(),
        m.imagesPerSecond(),
        version,
        now());
  }

  /** The run's end; the feedback figures are null when it held out no feedback. */
  static Completed completed(
      String runId,
      int epochs,
      double testLoss,
      double testAccuracy,
      Double feedbackAccuracy,
      Integer feedbackImages,
      long version,
      double seconds) {
    return new Completed(
        runId,
        epochs,
        epochs,
        testLoss,
        testAccuracy,
        feedbackAccuracy,
        feedbackImages,
        version,
        seconds,
        now());
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

  /**
   * One epoch's numbers: training loss/accuracy, dev loss/accuracy, its speed, and the accuracy on
   * the held-out feedback images (both null when there are none).
   */
  record EpochMetrics(
      double loss,
      double accuracy,
      double devLoss,
      double devAccuracy,
      double seconds,
      double imagesPerSecond,
      Double feedbackAccuracy,
      Integer feedbackImages,
      Double rawDevAccuracy) {

    /** An epoch measured without a weight average. */
    public EpochMetrics(
        double loss,
        double accuracy,
        double devLoss,
        double devAccuracy,
        double seconds,
        double imagesPerSecond,
        Double feedbackAccuracy,
        Integer feedbackImages) {
      this(
          loss,
          accuracy,
          devLoss,
          devAccuracy,
          seconds,
          imagesPerSecond,
          feedbackAccuracy,
          feedbackImages,
          null);
    }

    /** An epoch measured without held-out feedback. */
    public EpochMetrics(
        double loss,
        double accuracy,
        double devLoss,
        double devAccuracy,
        double seconds,
        double imagesPerSecond) {
      this(loss, accuracy, devLoss, devAccuracy, seconds, imagesPerSecond, null, null);
    }
  }

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
