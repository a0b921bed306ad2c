package lenet.inference.model;

import lenet.contract.wire.LiveAccuracy;
import lenet.contract.wire.ModelControl.Tally;

/**
 * The tests behind every decision taken on live figures: whether a canary is not worse than the
 * champion (promote), worse (drop) or not known yet (wait); whether a champion promoted on live
 * figures fell below the one it replaced (rollback); whether a champion's live accuracy left what
 * its gate measured (drift). Pure functions of tallies and settings.
 *
 * <p>A difference of two accuracies is bounded one-sided at the given confidence by the normal
 * approximation with one success and one failure added to each side (Agresti and Caffo), which
 * stays sensible at 0% and 100%; a single accuracy by the Wilson score bound. The figures are
 * looked at again every few seconds until they decide, so the real error rate is above the nominal
 * one (a repeated-look test); the minimum count keeps early looks, where that matters most, from
 * deciding.
 */
final class LiveRules {

  /** What a canary's figures say. */
  enum Call {
    PROMOTE,
    DROP,
    WAIT
  }

  /** One-sided bounds of a difference of accuracies, {@code low <= true difference <= high}. */
  record Bounds(double low, double high) {}

  private LiveRules() {}

  /**
   * The one-sided bounds of accuracy({@code subject}) - accuracy({@code baseline}) at {@code
   * confidence}.
   */
  static Bounds difference(Tally subject, Tally baseline, double confidence) {
    double ns = subject.labelled() + 2.0;
    double nb = baseline.labelled() + 2.0;
    double ps = (subject.correct() + 1.0) / ns;
    double pb = (baseline.correct() + 1.0) / nb;
    double se = Math.sqrt(ps * (1 - ps) / ns + pb * (1 - pb) / nb);
    double z = normalQuantile(confidence);
    double d = ps - pb;
    return new Bounds(Math.max(-1, d - z * se), Math.min(1, d + z * se));
  }

  /**
   * A canary against the champion over the same period: PROMOTE when its accuracy is not lower by
   * more than {@code tolerance} (the lower bound clears {@code -tolerance}), DROP when it is (the
   * upper bound is below {@code -tolerance}), WAIT while either has fewer than {@code minLabelled}
   * labelled outcomes or the figures say neither.
   */
  static Call canary(
      Tally canary, Tally champion, double confidence, double tolerance, long minLabelled) {
    if (canary.labelled() < minLabelled || champion.labelled() < minLabelled) {
      return Call.WAIT;
    }
    Bounds b = difference(canary, champion, confidence);
    if (b.low() >= -tolerance) {
      return Call.PROMOTE;
    }
    return b.high() < -tolerance ? Call.DROP : Call.WAIT;
  }

  /**
   * Whether a champion did worse since its promotion than the champion it replaced did over its
   * canary: the upper bound of the difference is below {@code -tolerance}, on at least {@code
   * minLabelled} outcomes.
   */
  static boolean rollback(
      Tally sincePromotion, Tally replaced, double confidence, double tolerance, long minLabelled) {
    return sincePromotion.labelled() >= minLabelled
        && replaced.labelled() > 0
        && difference(sincePromotion, replaced, confidence).high() < -tolerance;
  }

  /**
   * Whether a champion's live accuracy is below its gate accuracy by more than {@code tolerance}:
   * the Wilson upper bound at {@code confidence} is under {@code gateAccuracy - tolerance}, on at
   * least {@code minLabelled} outcomes.
   */
  static boolean drifted(
      Tally live, double gateAccuracy, double confidence, double tolerance, long minLabelled) {
    return live.labelled() >= minLabelled
        && wilsonHigh(live, confidence) < gateAccuracy - tolerance;
  }

  /**
   * Whether a champion's mean confidence on its labelled outcomes is below its mean confidence on
   * the gate's images by more than {@code tolerance}, on at least {@code minLabelled} outcomes.
   */
  static boolean lessSure(
      Tally live, double gateMeanConfidence, double tolerance, long minLabelled) {
    return live.labelled() >= minLabelled && live.meanConfidence() < gateMeanConfidence - tolerance;
  }

  /** The one-sided Wilson score upper bound of a tally's accuracy at {@code confidence}. */
  static double wilsonHigh(Tally t, double confidence) {
    return LiveAccuracy.wilson(t.correct(), t.labelled(), normalQuantile(confidence))[1];
  }

  /**
   * The standard normal quantile: {@code z} with P(Z <= z) = {@code p}, for p in (0.5, 1), by
   * bisection on the normal distribution function (to 1e-9; called a few times a minute).
   */
  static double normalQuantile(double p) {
    if (!(p > 0.5 && p < 1)) {
      throw new IllegalArgumentException("confidence must be in (0.5, 1), not " + p);
    }
    double lo = 0;
    double hi = 10;
    while (hi - lo > 1e-9) {
      double mid = (lo + hi) / 2;
      if (normalCdf(mid) < p) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return (lo + hi) / 2;
  }

  /**
   * P(Z <= x) for x >= 0, from erfc's series with error below 1.2e-7 (Numerical Recipes' erfcc).
   */
  static double normalCdf(double x) {
    double z = Math.abs(x) / Math.sqrt(2);
    double t = 1 / (1 + 0.5 * z);
    double erfc =
        t
            * Math.exp(
                -z * z
                    - 1.26551223
                    + t
                        * (1.00002368
                            + t
                                * (0.37409196
                                    + t
                                        * (0.09678418
                                            + t
                                                * (-0.18628806
                                                    + t
                                                        * (0.27886807
                                                            + t
                                                                * (-1.13520398
                                                                    + t
                                                                        * (1.48851587
                                                                            + t
                                                                                * (-0.82215223
                                                                                    + t
                                                                                        * 0.17087277)))))))));
    double cdf = 1 - erfc / 2;
    return x >= 0 ? cdf : 1 - cdf;
  }
}
