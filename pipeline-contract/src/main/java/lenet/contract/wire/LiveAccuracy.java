package lenet.contract.wire;

import java.util.Arrays;

/**
 * What the labelled outcomes of one model version say, on {@code model.accuracy} (key = the
 * version): how many were labelled, how many were right, the confusion matrix ({@code confusion[10
 * * actual + predicted]}), the sum of the model's confidence (its mean against the accuracy says
 * how calibrated it is) and how many predictions had a confidence below {@link #LOW_CONFIDENCE}.
 * Kept by adding an image's outcome and, when its label changes, removing the old one, so each
 * labelled image counts once.
 */
public record LiveAccuracy(
    long modelVersion,
    long labelled,
    long correct,
    long[] confusion,
    double confidenceSum,
    long lowConfidence) {

  /** A prediction less sure than this counts as low-confidence. */
  public static final double LOW_CONFIDENCE = 0.5;

  private static final int CLASSES = 10;

  public LiveAccuracy {
    if (confusion == null || confusion.length != CLASSES * CLASSES) {
      throw new WireFormatException(
          WireFormatException.Reason.INVALID_VALUE, "'confusion' must hold 100 counts");
    }
    confusion = confusion.clone();
  }

  public static LiveAccuracy none(long version) {
    return new LiveAccuracy(version, 0, 0, new long[CLASSES * CLASSES], 0, 0);
  }

  /** With {@code o} counted ({@code sign} 1) or taken back ({@code sign} -1). */
  private LiveAccuracy with(Outcome o, int sign) {
    long[] c = confusion.clone();
    c[CLASSES * o.actual() + o.predicted()] += sign;
    return new LiveAccuracy(
        modelVersion,
        labelled + sign,
        correct + (o.correct() ? sign : 0),
        c,
        confidenceSum + sign * (double) o.confidence(),
        lowConfidence + (o.confidence() < LOW_CONFIDENCE ? sign : 0));
  }

  public LiveAccuracy add(Outcome o) {
    return with(o, 1);
  }

  public LiveAccuracy remove(Outcome o) {
    return with(o, -1);
  }

  /** The counts a decision on live figures takes. */
  public ModelControl.Tally tally() {
    return new ModelControl.Tally(modelVersion, labelled, correct, confidenceSum);
  }

  /** Correct over labelled; NaN while nothing is labelled. */
  public double accuracy() {
    return tally().accuracy();
  }

  /**
   * The 95% Wilson score interval of the accuracy, {@code [low, high]}; {@code [0, 1]} while
   * nothing is labelled.
   */
  public double[] interval() {
    return wilson(correct, labelled, 1.959964);
  }

  /**
   * The Wilson score interval of {@code correct} out of {@code n} with {@code z} standard errors
   * each side; {@code [0, 1]} when {@code n} is 0.
   */
  public static double[] wilson(long correct, long n, double z) {
    if (n == 0) {
      return new double[] {0, 1};
    }
    double p = (double) correct / n;
    double centre = (p + z * z / (2 * n)) / (1 + z * z / n);
    double half = z / (1 + z * z / n) * Math.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n));
    return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
  }

  /** Mean confidence; NaN while nothing is labelled. */
  public double meanConfidence() {
    return tally().meanConfidence();
  }

  public byte[] encode() {
    return Json.write(this);
  }

  public static LiveAccuracy decode(byte[] json) {
    try {
      return Json.MAPPER.readValue(json, LiveAccuracy.class);
    } catch (java.io.IOException e) {
      throw new WireFormatException(
          WireFormatException.Reason.MALFORMED_JSON, "not a live accuracy: " + e.getMessage(), e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LiveAccuracy a
        && a.modelVersion == modelVersion
        && a.labelled == labelled
        && a.correct == correct
        && Arrays.equals(a.confusion, confusion)
        && a.confidenceSum == confidenceSum
        && a.lowConfidence == lowConfidence;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(modelVersion) * 31 + Arrays.hashCode(confusion);
  }

  @Override
  public String toString() {
    return "LiveAccuracy[v" + modelVersion + ": " + correct + "/" + labelled + "]";
  }
}
