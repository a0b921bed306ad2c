package lenet.trainer.training;

/**
 * How a run trains the tutorial's network beyond the tutorial's loop: training-side techniques
 * only, the network itself unchanged. Each is off at 0.
 *
 * @param warmUpEpochs epochs over which the learning rate rises linearly from 0 before the schedule
 *     (cosine or constant) takes over for the remaining steps; fractions allowed
 * @param labelSmoothing the training loss's target puts this much probability spread evenly over
 *     the ten digits and the rest on the label (0.1 = 0.91 on the label, 0.01 on each other digit);
 *     evaluation's loss is the plain cross-entropy
 * @param emaDecay an exponential moving average of every parameter (BatchNorm statistics included)
 *     is kept with this decay per step, evaluated and checkpointed instead of the raw weights,
 *     which are evaluated beside it ({@code rawDevAccuracy}); its first steps use {@code (1 + t) /
 *     (10 + t)} when smaller, so that early epochs are not dominated by the random start
 * @param weightDecay adamw's decoupled weight decay (the other optimizers have none)
 * @param batchNormImages after each epoch, every BatchNorm's running statistics (what evaluation
 *     and serving normalize with) are recomputed exactly over this many training images under the
 *     weights as they stand ({@link BatchNormCalibration}); 0 keeps training's moving average
 */
public record Recipe(
    double warmUpEpochs,
    double labelSmoothing,
    double emaDecay,
    double weightDecay,
    int batchNormImages) {

  /** The tutorial's loop: none of them. */
  public static final Recipe PLAIN = new Recipe(0, 0, 0, 0, 0);

  public Recipe {
    check("warm-up epochs", warmUpEpochs, 0, Double.MAX_VALUE);
    check("label smoothing", labelSmoothing, 0, 0.5);
    check("EMA decay", emaDecay, 0, 0.99999);
    check("weight decay", weightDecay, 0, 1);
    check("BatchNorm calibration images", batchNormImages, 0, 1_000_000);
  }

  private static void check(String what, double value, double min, double max) {
    if (!(value >= min && value <= max)) {
      throw new IllegalArgumentException(
          what + " must be in [" + min + ", " + max + "], got " + value);
    }
  }
}
