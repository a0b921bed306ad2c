package lenet.ingest;

import java.util.List;
import java.util.Map;

/**
 * What the tutorial prints about the data, per split: shape and dtype before and after
 * preprocessing, value range (peak-to-peak 255 before, 1.0 after), and images per class.
 */
public record DatasetFacts(String datasetId, Map<String, SplitFacts> splits) {

  public record SplitFacts(
      int images,
      List<Integer> rawShape,
      String rawDtype,
      int rawPeakToPeak,
      List<Integer> shape,
      String dtype,
      double min,
      double max,
      double peakToPeak,
      List<Integer> labelCounts) {}
}
