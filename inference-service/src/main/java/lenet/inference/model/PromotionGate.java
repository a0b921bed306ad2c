package lenet.inference.model;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import lenet.inference.config.InferenceConfig;
import org.jboss.logging.Logger;

/**
 * Decides whether a candidate may become champion, from what this service measures itself: the
 * candidate must load and warm up, give finite probabilities, and score on the gate set no more
 * than {@code tolerance} below the champion on the same images. The checkpoint's own claims are not
 * trusted.
 */
final class PromotionGate {

  private static final Logger LOG = Logger.getLogger(PromotionGate.class);
  private static final int BATCH = 256;

  private final ServingSlot slot;
  private final GateSet gateSet;
  private final double tolerance;
  private final int warmUpPasses;
  private final int warmUpBatch;
  private final Map<String, Measured> measured = new ConcurrentHashMap<>();

  /** Gates with {@code inference.gate.tolerance}, warming each model up as serving ones are. */
  PromotionGate(ServingSlot slot, GateSet gateSet, InferenceConfig config) {
    this.slot = slot;
    this.gateSet = gateSet;
    this.tolerance = config.gate().tolerance();
    this.warmUpPasses = config.warmUpPasses();
    this.warmUpBatch = config.warmUpBatch();
  }

  /**
   * Gates {@code candidate} against the champion.
   *
   * @param champion the champion's checkpoint, when this replica holds it
   * @param championGate what the gate measured when the champion was promoted
   * @return empty while there is no gate set on Kafka (try again later)
   */
  Optional<GateOutcome> evaluate(
      Checkpoint candidate,
      Long championVersion,
      Optional<Checkpoint> champion,
      Optional<ModelControl.Gate> championGate) {
    Optional<GateSet.Data> loaded = gateSet.load();
    if (loaded.isEmpty()) {
      return Optional.empty();
    }
    GateSet.Data data = loaded.get();
    long t0 = System.nanoTime();
    long version = candidate.header().modelVersion();
    Measured figures;
    try {
      figures = measure(candidate, data);
    } catch (WireFormatException e) {
      ModelControl.Gate gate =
          new ModelControl.Gate(
              data.split().name().toLowerCase(),
              data.datasetId(),
              data.count(),
              0,
              !e.getMessage().contains("non-finite"),
              championVersion,
              null,
              tolerance,
              millisSince(t0));
      return Optional.of(
          new GateOutcome(
              false,
              gate,
              "v" + version + " fails to load or warm up: " + e.getMessage(),
              e.reason().name()));
    }
    Double championAccuracy = null;
    if (championVersion != null) {
      championAccuracy =
          championGate
              .filter(
                  g ->
                      data.datasetId().equals(g.datasetId())
                          && data.split().name().equalsIgnoreCase(g.split())
                          && g.images() == data.count())
              .map(ModelControl.Gate::accuracy)
              .orElseGet(() -> champion.map(c -> measure(c, data).accuracy()).orElse(null));
    }
    double accuracy = figures.accuracy();
    ModelControl.Gate gate =
        new ModelControl.Gate(
            data.split().name().toLowerCase(),
            data.datasetId(),
            data.count(),
            accuracy,
            true,
            championVersion,
            championAccuracy,
            tolerance,
            millisSince(t0),
            figures.meanConfidence());
    boolean passed = championAccuracy == null || accuracy >= championAccuracy - tolerance;
    String reason =
        String.format(
            "v%d scored %.4f on %,d %s images%s",
            version,
            accuracy,
            data.count(),
            gate.split(),
            championAccuracy == null
                ? (championVersion == null
                    ? "; no champion yet"
                    : "; champion v" + championVersion + " could not be measured here")
                : String.format(
                    " vs champion v%d %.4f (tolerance %.4f): %s",
                    championVersion, championAccuracy, tolerance, passed ? "not worse" : "worse"));
    return Optional.of(new GateOutcome(passed, gate, reason, null));
  }

  /** What the gate measured of one checkpoint on one gate set. */
  record Measured(double accuracy, double meanConfidence) {}

  /**
   * Accuracy and mean confidence of a checkpoint on the gate set, loaded on its own (one forward
   * pass at a time).
   */
  private Measured measure(Checkpoint checkpoint, GateSet.Data data) {
    String key =
        checkpoint.header().modelVersion()
            + "@"
            + checkpoint.header().sha256()
            + "/"
            + data.datasetId()
            + "/"
            + data.split()
            + "/"
            + data.count();
    Measured known = measured.get(key);
    if (known != null) {
      return known;
    }
    ServingModel model = slot.load(checkpoint, 1, warmUpPasses, warmUpBatch);
    try {
      int right = 0;
      double confidence = 0;
      for (int start = 0; start < data.count(); start += BATCH) {
        float[][] rows =
            Arrays.copyOfRange(data.rows(), start, Math.min(start + BATCH, data.count()));
        float[][] out = model.predict(rows);
        model.checkProbabilities(out, rows.length);
        for (int i = 0; i < out.length; i++) {
          int best = Prediction.argMax(out[i]);
          right += best == data.labels()[start + i] ? 1 : 0;
          confidence += out[i][best];
        }
      }
      Measured m = new Measured(right / (double) data.count(), confidence / data.count());
      measured.put(key, m);
      LOG.debugf(
          "Gate measured v%d: %.4f", (Object) checkpoint.header().modelVersion(), m.accuracy());
      return m;
    } catch (IllegalStateException e) {
      throw new WireFormatException(
          WireFormatException.Reason.INVALID_VALUE,
          "checkpoint v"
              + checkpoint.header().modelVersion()
              + " fails on the gate set: "
              + e.getMessage(),
          e);
    } finally {
      model.discard();
    }
  }

  private static long millisSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }
}
