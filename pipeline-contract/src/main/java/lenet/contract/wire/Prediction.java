package lenet.contract.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Objects;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * A scored image, on {@code digits.predictions} (key = id) and as the body of {@code POST
 * /api/predict}.
 *
 * @param probabilities softmax output, ten values summing to 1, in the model's own precision
 *     (float32: written as the shortest decimal that reads back to the same float)
 * @param modelVersion the checkpoint version that produced it
 */
public record Prediction(
    String id, int digit, float confidence, float[] probabilities, long modelVersion) {

  public static final int CLASSES = 10;

  public Prediction {
    if (probabilities == null || probabilities.length != CLASSES) {
      throw new IllegalArgumentException("a prediction holds " + CLASSES + " probabilities");
    }
  }

  /** Builds a prediction from one row of softmax output: the digit is the arg-max. */
  public static Prediction fromProbabilities(String id, float[] row, long modelVersion) {
    float[] p = row.clone();
    int best = argMax(p);
    return new Prediction(id, best, p[best], p, modelVersion);
  }

  /** The index of a row's largest value (the first of equals): the digit a network predicts. */
  public static int argMax(float[] row) {
    int best = 0;
    for (int i = 1; i < row.length; i++) {
      if (row[i] > row[best]) {
        best = i;
      }
    }
    return best;
  }

  public byte[] encode() {
    return Json.write(this);
  }

  public static Prediction decode(byte[] json) {
    ObjectNode node = Json.readObject(json, 1 << 20, "prediction");
    JsonNode probs = node.get("probabilities");
    if (probs == null || !probs.isArray() || probs.size() != CLASSES) {
      throw new WireFormatException(
          Reason.INVALID_VALUE, "'probabilities' must be an array of " + CLASSES + " numbers");
    }
    float[] p = new float[CLASSES];
    for (int i = 0; i < CLASSES; i++) {
      p[i] = probs.get(i).floatValue();
    }
    return new Prediction(
        Json.optString(node, "id"),
        require(Json.optInt(node, "digit"), "digit"),
        require(Json.optDouble(node, "confidence"), "confidence").floatValue(),
        p,
        require(Json.optLong(node, "modelVersion"), "modelVersion"));
  }

  private static <T> T require(T value, String field) {
    if (value == null) {
      throw new WireFormatException(Reason.MISSING_FIELD, "prediction lacks '" + field + "'");
    }
    return value;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Prediction p
        && Objects.equals(id, p.id)
        && digit == p.digit
        && confidence == p.confidence
        && Arrays.equals(probabilities, p.probabilities)
        && modelVersion == p.modelVersion;
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, digit, confidence, Arrays.hashCode(probabilities), modelVersion);
  }

  @Override
  public String toString() {
    return "Prediction[id="
        + id
        + ", digit="
        + digit
        + ", confidence="
        + confidence
        + ", v"
        + modelVersion
        + "]";
  }
}
