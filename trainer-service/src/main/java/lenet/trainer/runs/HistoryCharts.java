package lenet.trainer.runs;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The tutorial's two plots of the history: training vs dev loss, and training vs dev accuracy, as
 * PNG.
 */
public final class HistoryCharts {

  private HistoryCharts() {}

  public static byte[] loss(String runId, List<RunRegistry.EpochRow> rows) {
    return chart(
        "Model loss — " + runId,
        "loss",
        rows,
        RunRegistry.EpochRow::loss,
        RunRegistry.EpochRow::devLoss);
  }

  public static byte[] accuracy(String runId, List<RunRegistry.EpochRow> rows) {
    return chart(
        "Model accuracy — " + runId,
        "accuracy",
        rows,
        RunRegistry.EpochRow::accuracy,
        RunRegistry.EpochRow::devAccuracy);
  }

  private static byte[] chart(
      String title,
      String yLabel,
      List<RunRegistry.EpochRow> rows,
      ToDoubleFunction<RunRegistry.EpochRow> train,
      ToDoubleFunction<RunRegistry.EpochRow> dev) {
    XYSeries trainSeries = new XYSeries("train");
    XYSeries devSeries = new XYSeries("dev");
    for (RunRegistry.EpochRow r : rows) {
      trainSeries.add(r.epoch(), train.applyAsDouble(r));
      devSeries.add(r.epoch(), dev.applyAsDouble(r));
    }
    XYSeriesCollection data = new XYSeriesCollection();
    data.addSeries(trainSeries);
    data.addSeries(devSeries);
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            title, "epoch", yLabel, data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    renderer.setSeriesStroke(0, new BasicStroke(2f));
    renderer.setSeriesStroke(1, new BasicStroke(2f));
    plot.setRenderer(renderer);
    try {
      return ChartUtils.encodeAsPNG(chart.createBufferedImage(800, 480));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
