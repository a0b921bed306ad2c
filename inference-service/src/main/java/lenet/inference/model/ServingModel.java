package lenet.inference.model;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.translate.TranslateException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import lenet.contract.model.ModelIO;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;
import org.jboss.logging.Logger;

/**
 * One loaded checkpoint with its own pool of predictors (a DJL predictor is not thread-safe; the
 * model is).
 *
 * <p>Reference counted: the manager holds one reference while the model is current and every
 * request holds one for its forward pass. When the manager swaps in a newer model it drops its
 * reference; the last request in flight closes the predictors and the model, so native memory does
 * not grow with reloads.
 */
final class ServingModel {

  private static final Logger LOG = Logger.getLogger(ServingModel.class);

  private final Checkpoint.Header header;
  private final Model model;
  private final List<Predictor<float[][], float[][]>> predictors;
  private final BlockingQueue<Predictor<float[][], float[][]>> idle;
  private final AtomicInteger references = new AtomicInteger(1);
  private final Runnable onClosed;

  private ServingModel(
      Checkpoint.Header header,
      Model model,
      List<Predictor<float[][], float[][]>> predictors,
      Runnable onClosed) {
    this.header = header;
    this.model = model;
    this.predictors = predictors;
    this.idle = new ArrayBlockingQueue<>(predictors.size(), false, predictors);
    this.onClosed = onClosed;
  }

  /**
   * Loads a verified checkpoint into a fresh network on {@code device} with {@code poolSize}
   * predictors.
   *
   * @param onClosed runs once the model is closed (for the live-model gauge)
   * @throws WireFormatException when the parameters do not fit LeNet-5
   */
  static ServingModel load(Checkpoint checkpoint, Device device, int poolSize, Runnable onClosed) {
    Model model = ModelIO.load(checkpoint, device);
    List<Predictor<float[][], float[][]>> predictors = new ArrayList<>(poolSize);
    ProbabilitiesTranslator translator = new ProbabilitiesTranslator();
    for (int i = 0; i < poolSize; i++) {
      predictors.add(model.newPredictor(translator));
    }
    return new ServingModel(checkpoint.header(), model, predictors, onClosed);
  }

  Checkpoint.Header header() {
    return header;
  }

  long version() {
    return header.modelVersion();
  }

  /**
   * Runs every predictor {@code passes} times on a batch of blank and noise images and checks that
   * the outputs are probabilities: a checkpoint whose numbers are NaN or infinite is refused here,
   * before it serves.
   */
  void warmUp(int passes, int batch) {
    float[][] rows = new float[Math.max(1, batch)][ImageEvent.PIXELS];
    java.util.Random random = new java.util.Random(7);
    for (int i = 1; i < rows.length; i += 2) {
      for (int p = 0; p < ImageEvent.PIXELS; p++) {
        rows[i][p] = random.nextFloat();
      }
    }
    for (Predictor<float[][], float[][]> predictor : predictors) {
      for (int pass = 0; pass < Math.max(1, passes); pass++) {
        float[][] out;
        try {
          out = predictor.predict(rows);
        } catch (TranslateException e) {
          throw new WireFormatException(
              Reason.INVALID_VALUE,
              "checkpoint v" + version() + " fails its warm-up forward pass: " + e.getMessage(),
              e);
        }
        checkProbabilities(out, rows.length);
      }
    }
  }

  void checkProbabilities(float[][] out, int rows) {
    if (out.length != rows) {
      throw new WireFormatException(
          Reason.INVALID_VALUE,
          "checkpoint v" + version() + " returned " + out.length + " rows for " + rows);
    }
    for (float[] row : out) {
      double sum = 0;
      for (float v : row) {
        if (!Float.isFinite(v)) {
          throw new WireFormatException(
              Reason.INVALID_VALUE,
              "checkpoint v"
                  + version()
                  + " produces non-finite outputs ("
                  + v
                  + "); its parameters are broken");
        }
        sum += v;
      }
      if (Math.abs(sum - 1) > 1e-3 || row.length != Prediction.CLASSES) {
        throw new WireFormatException(
            Reason.INVALID_VALUE,
            "checkpoint v" + version() + " outputs do not sum to 1 (" + sum + ")");
      }
    }
  }

  /** Takes a reference for one request; false once the model has been drained and closed. */
  boolean retain() {
    while (true) {
      int n = references.get();
      if (n == 0) {
        return false;
      }
      if (references.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Drops a reference; the last one closes the predictors and the model. */
  void release() {
    int left = references.decrementAndGet();
    if (left == 0) {
      close();
    } else if (left < 0) {
      throw new IllegalStateException("model v" + version() + " released more often than retained");
    }
  }

  /**
   * One forward pass over {@code rows} on a predictor of this model's pool. Call between retain and
   * release.
   */
  float[][] predict(float[][] rows) throws TranslateException {
    Predictor<float[][], float[][]> predictor;
    try {
      predictor = idle.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TranslateException("interrupted while waiting for a predictor", e);
    }
    try {
      return predictor.predict(rows);
    } finally {
      idle.add(predictor);
    }
  }

  /** For a model that never served (warm-up failed): close it now. */
  void discard() {
    release();
  }

  private void close() {
    predictors.forEach(Predictor::close);
    model.close();
    LOG.debugf("Closed model v%d and its %d predictors", version(), predictors.size());
    onClosed.run();
  }
}
