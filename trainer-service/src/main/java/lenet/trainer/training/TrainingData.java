package lenet.trainer.training;

import lenet.contract.dataset.DatasetReader.SplitData;

/**
 * One complete dataset copy in memory, as its manifest named it, and the held-out feedback images
 * measured beside its dev split ({@code feedback}; null when the run reads no feedback).
 */
public record TrainingData(
    String datasetId, SplitData train, SplitData dev, SplitData test, SplitData feedback) {

  /** A dataset copy without feedback. */
  public TrainingData(String datasetId, SplitData train, SplitData dev, SplitData test) {
    this(datasetId, train, dev, test, null);
  }
}
