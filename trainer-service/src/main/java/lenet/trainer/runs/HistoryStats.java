package lenet.trainer.runs;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * pandas' {@code describe()} of a run's history: count, mean, std (n-1), min, quartiles (linear),
 * max.
 */
public final class HistoryStats {

  public record Column(
      int count,
      double mean,
      double std,
      double min,
      double p25,
      double p50,
      double p75,
      double max) {}

  private HistoryStats() {}

  public static Map<String, Column> describe(List<RunRegistry.EpochRow> rows) {
    Map<String, Column> out = new LinkedHashMap<>();
    out.put("loss", column(rows, RunRegistry.EpochRow::loss));
    out.put("accuracy", column(rows, RunRegistry.EpochRow::accuracy));
    out.put("devLoss", column(rows, RunRegistry.EpochRow::devLoss));
    out.put("devAccuracy", column(rows, RunRegistry.EpochRow::devAccuracy));
    return out;
  }

  static Column column(
      List<RunRegistry.EpochRow> rows, ToDoubleFunction<RunRegistry.EpochRow> field) {
    double[] v = rows.stream().mapToDouble(field).sorted().toArray();
    int n = v.length;
    if (n == 0) {
      return new Column(
          0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    double mean = Arrays.stream(v).average().orElse(Double.NaN);
    double ss = Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum();
    double std = n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN;
    return new Column(
        n, mean, std, v[0], quantile(v, 0.25), quantile(v, 0.5), quantile(v, 0.75), v[n - 1]);
  }

  /** Linear interpolation between closest ranks, as numpy's default. */
  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = (int) Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }
}
