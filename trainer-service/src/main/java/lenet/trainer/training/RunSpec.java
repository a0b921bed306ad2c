package lenet.trainer.training;

import java.util.Locale;
import lenet.contract.wire.TrainingCommand;
import lenet.trainer.TrainerConfig;

/**
 * A run's settings: the command's values over the configured defaults. {@code feedbackShare} is the
 * command's {@code feedback.share}, null when it asks for no feedback.
 */
public record RunSpec(
    String runId,
    int epochs,
    int batchSize,
    double learningRate,
    String optimizer,
    long seed,
    String schedule,
    Augmentation augmentation,
    Double feedbackShare,
    Recipe recipe) {

  /** A run with the tutorial's loop ({@link Recipe#PLAIN}). */
  public RunSpec(
      String runId,
      int epochs,
      int batchSize,
      double learningRate,
      String optimizer,
      long seed,
      String schedule,
      Augmentation augmentation,
      Double feedbackShare) {
    this(
        runId,
        epochs,
        batchSize,
        learningRate,
        optimizer,
        seed,
        schedule,
        augmentation,
        feedbackShare,
        Recipe.PLAIN);
  }

  public static RunSpec of(String runId, TrainingCommand cmd, TrainerConfig defaults) {
    return new RunSpec(
        runId,
        cmd.epochs() != null ? cmd.epochs() : defaults.epochs(),
        cmd.batchSize() != null ? cmd.batchSize() : defaults.batchSize(),
        cmd.learningRate() != null ? cmd.learningRate() : defaults.learningRate(),
        (cmd.optimizer() != null ? cmd.optimizer() : defaults.optimizer()).toLowerCase(Locale.ROOT),
        cmd.seed() != null ? cmd.seed() : defaults.seed(),
        defaults.schedule(),
        new Augmentation(
            defaults.augmentShift(), defaults.augmentRotation(), defaults.augmentZoom()),
        cmd.feedback() != null ? cmd.feedback().share() : null,
        new Recipe(
            defaults.warmUpEpochs(),
            defaults.labelSmoothing(),
            defaults.emaDecay(),
            defaults.weightDecay(),
            defaults.batchNormImages()));
  }
}
