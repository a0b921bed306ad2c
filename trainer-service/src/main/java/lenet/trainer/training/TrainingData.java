package lenet.trainer.training;

import lenet.contract.dataset.DatasetReader.SplitData;

/** One complete dataset copy in memory, as its manifest named it. */
public record TrainingData(String datasetId, SplitData train, SplitData dev, SplitData test) {}
