package lenet.contract.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import java.util.Set;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * A request to train, on {@code training.commands}. Every field is optional: {@code {}} starts a
 * run with the trainer's configured defaults. Values are checked here, so a bad command is refused
 * before any work starts.
 *
 * <p>{@code "feedback": {"share": 0.2}} asks for the labelled images users sent back ({@code
 * digits.labels} joined with their images on {@code digits.images}, and HTTP-scored images whose
 * prediction on {@code digits.predictions} carries its {@code pixels}) to be mixed into the
 * training split: at most {@code share} (0 < share < 1) of the resulting training split, each image
 * with its newest label. A fixed part of the labelled images, chosen by a hash of their id, is
 * never trained on and is measured each epoch beside the dev split instead.
 */
public record TrainingCommand(
    String runId,
    Integer epochs,
    Integer batchSize,
    Double learningRate,
    String optimizer,
    Long seed,
    Feedback feedback) {

  /**
   * Labelled feedback to train on: feedback images make at most {@code share} of the training split
   * (MNIST's training images plus the feedback images).
   */
  public record Feedback(double share) {}

  /** The optimizers the trainer knows, lower case. */
  public static final Set<String> OPTIMIZERS = Set.of("adam", "adamw", "sgd", "adagrad", "rmsprop");

  public static final int MAX_EPOCHS = 1000;
  public static final int MAX_BATCH_SIZE = 60_000;

  /**
   * The smallest learning rate a command may ask for. The trainer computes in 32-bit floats and a
   * schedule decays the rate to 1% of it, so a rate must stay a normal float (not 0, not subnormal)
   * after both; this bound keeps it far above that ({@code Float.MIN_NORMAL} is ~1.2e-38), and
   * below it no step of LeNet-5 on MNIST moves a parameter by a float's precision.
   */
  public static final double MIN_LEARNING_RATE = 1e-9;

  private static final Set<String> FIELDS =
      Set.of("runId", "epochs", "batchSize", "learningRate", "optimizer", "seed", "feedback");

  private static final String FEEDBACK_EXAMPLE = "{\"share\": 0.2}";

  public static TrainingCommand defaults() {
    return new TrainingCommand(null, null, null, null, null, null, null);
  }

  /** This command under run id {@code id}. */
  public TrainingCommand withRunId(String id) {
    return new TrainingCommand(id, epochs, batchSize, learningRate, optimizer, seed, feedback);
  }

  /**
   * Decodes and validates a command.
   *
   * @throws WireFormatException naming the first problem found
   */
  public static TrainingCommand decode(byte[] json) {
    ObjectNode node = Json.readObject(json, 64 * 1024, "training command");
    Json.onlyFields(node, FIELDS, "training command");
    TrainingCommand cmd =
        new TrainingCommand(
            Json.optString(node, "runId"),
            Json.optInt(node, "epochs"),
            Json.optInt(node, "batchSize"),
            Json.optDouble(node, "learningRate"),
            Json.optString(node, "optimizer"),
            Json.optLong(node, "seed"),
            feedback(node));
    cmd.validate();
    return cmd;
  }

  private static Feedback feedback(ObjectNode node) {
    JsonNode f = node.get("feedback");
    if (f == null || f.isNull()) {
      return null;
    }
    if (!f.isObject()) {
      throw Json.wrongType("feedback", "an object like " + FEEDBACK_EXAMPLE, f);
    }
    Json.onlyFields((ObjectNode) f, Set.of("share"), "'feedback'");
    JsonNode share = f.get("share");
    if (share == null || share.isNull()) {
      throw new WireFormatException(
          Reason.MISSING_FIELD,
          "'feedback' needs 'share', the largest fraction of the training split that feedback"
              + " images may make, e.g. "
              + FEEDBACK_EXAMPLE);
    }
    if (!share.isNumber() || !Double.isFinite(share.doubleValue())) {
      throw Json.wrongType("feedback.share", "a number between 0 and 1", share);
    }
    return new Feedback(share.doubleValue());
  }

  /** What a run id may be: letters, digits, '.', '_' and '-', at most 64. */
  public static boolean validRunId(String id) {
    return id != null && id.matches("[A-Za-z0-9._-]{1,64}");
  }

  /**
   * The {@code runId} a sender gave, read leniently from a command that may be invalid otherwise,
   * so that the FAILED event reaches the sender under the id it watches.
   */
  public static java.util.Optional<String> lenientRunId(byte[] json) {
    try {
      com.fasterxml.jackson.databind.JsonNode id = Json.MAPPER.readTree(json).get("runId");
      return id != null && id.isTextual() && validRunId(id.asText())
          ? java.util.Optional.of(id.asText())
          : java.util.Optional.empty();
    } catch (Exception e) {
      return java.util.Optional.empty();
    }
  }

  /** Checks value ranges; also used for commands built in code (the HTTP form). */
  public TrainingCommand validate() {
    if (runId != null && !validRunId(runId)) {
      throw invalid("'runId' must be 1-64 characters of letters, digits, '.', '_' or '-'");
    }
    if (epochs != null && (epochs <= 0 || epochs > MAX_EPOCHS)) {
      throw invalid("'epochs' must be in 1.." + MAX_EPOCHS + ", got " + epochs);
    }
    if (batchSize != null && (batchSize <= 0 || batchSize > MAX_BATCH_SIZE)) {
      throw invalid("'batchSize' must be in 1.." + MAX_BATCH_SIZE + ", got " + batchSize);
    }
    if (learningRate != null && !validLearningRate(learningRate)) {
      throw invalid(
          "'learningRate' must be in ["
              + MIN_LEARNING_RATE
              + ", 10] (the trainer uses it as a 32-bit float), got "
              + learningRate);
    }
    if (optimizer != null && !OPTIMIZERS.contains(optimizer.toLowerCase(Locale.ROOT))) {
      throw invalid("'optimizer' must be one of " + OPTIMIZERS + ", got '" + optimizer + "'");
    }
    if (feedback != null && !(feedback.share() > 0 && feedback.share() < 1)) {
      throw invalid(
          "'feedback.share' must be above 0 and below 1 (the largest fraction of the training split"
              + " that feedback images may make), got "
              + feedback.share());
    }
    return this;
  }

  /**
   * Whether {@code rate} is a learning rate the trainer can train with: finite, within [{@link
   * #MIN_LEARNING_RATE}, 10] as the 32-bit float the trainer will use.
   */
  public static boolean validLearningRate(double rate) {
    float f = (float) rate;
    return Float.isFinite(f) && f >= (float) MIN_LEARNING_RATE && f <= 10f;
  }

  public byte[] encode() {
    return Json.write(this);
  }

  private static WireFormatException invalid(String message) {
    return new WireFormatException(Reason.INVALID_VALUE, message);
  }
}
