package lenet.contract.wire;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * A labelled prediction, on {@code digits.outcomes} (key = {@link #id}): {@code {"id", "predicted",
 * "actual", "modelVersion", "confidence", "labelSource"}}, one per label that found its prediction,
 * exactly once.
 *
 * @param predicted the digit the model said
 * @param actual the digit the label says
 * @param confidence the model's probability of {@code predicted}
 * @param labelSource the label's {@link Label#source()}
 */
public record Outcome(
    String id, int predicted, int actual, long modelVersion, float confidence, String labelSource) {

  public static final int MAX_BYTES = 2048;

  /** The outcome of {@code label} for {@code prediction} (the same id). */
  public static Outcome of(Label label, Prediction prediction) {
    return new Outcome(
        label.id(),
        prediction.digit(),
        label.digit(),
        prediction.modelVersion(),
        prediction.confidence(),
        label.source());
  }

  public boolean correct() {
    return predicted == actual;
  }

  public byte[] encode() {
    return Json.write(this);
  }

  public static Outcome decode(byte[] json) {
    ObjectNode node = Json.readObject(json, MAX_BYTES, "outcome");
    Json.onlyFields(
        node,
        Set.of("id", "predicted", "actual", "modelVersion", "confidence", "labelSource"),
        "outcome");
    String id = Json.optString(node, "id");
    Integer predicted = Json.optInt(node, "predicted");
    Integer actual = Json.optInt(node, "actual");
    Long version = Json.optLong(node, "modelVersion");
    Double confidence = Json.optDouble(node, "confidence");
    if (id == null
        || predicted == null
        || actual == null
        || version == null
        || confidence == null) {
      throw new WireFormatException(
          Reason.MISSING_FIELD, "an outcome needs id, predicted, actual, modelVersion, confidence");
    }
    String source = Json.optString(node, "labelSource");
    return new Outcome(
        id, predicted, actual, version, confidence.floatValue(), source == null ? "kafka" : source);
  }
}
