package lenet.inference.model;

import ai.djl.Device;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;
import lenet.model.LeNet5Inference;
import org.jboss.logging.Logger;

/**
 * One loaded checkpoint, compiled for inference ({@link LeNet5Inference}), with a bound on how many
 * forward passes run on it at once.
 *
 * <p>Reference counted: the manager holds one reference while the model is current and every
 * request holds one for its forward pass. When the manager swaps in a newer model it drops its
 * reference; the last request in flight closes the network, so native memory does not grow with
 * reloads.
 */
final class ServingModel {

  private static final Logger LOG = Logger.getLogger(ServingModel.class);

  private final Checkpoint.Header header;
  private final LeNet5Inference network;
  private final Semaphore passes;
  private final int concurrency;
  private final AtomicInteger references = new AtomicInteger(1);
  private final Runnable onClosed;

  private ServingModel(
      Checkpoint.Header header, LeNet5Inference network, int concurrency, Runnable onClosed) {
    this.header = header;
    this.network = network;
    this.concurrency = concurrency;
    this.passes = new Semaphore(concurrency);
    this.onClosed = onClosed;
  }

  /**
   * Loads a verified checkpoint into a fresh network on {@code device} on which at most {@code
   * concurrency} forward passes run at once.
   *
   * @param onClosed runs once the model is closed (for the live-model gauge)
   * @throws WireFormatException when the parameters do not fit LeNet-5
   */
  static ServingModel load(
      Checkpoint checkpoint, Device device, int concurrency, Runnable onClosed) {
    LeNet5Inference network = LeNet5Inference.load(checkpoint, device);
    return new ServingModel(checkpoint.header(), network, Math.max(1, concurrency), onClosed);
  }

  Checkpoint.Header header() {
    return header;
  }

  long version() {
    return header.modelVersion();
  }

  /**
   * Runs {@code passes} forward passes per concurrent slot on a batch of blank and noise images and
   * checks that the outputs are probabilities: a checkpoint whose numbers are NaN or infinite is
   * refused here, before it serves.
   */
  void warmUp(int passes, int batch) {
    float[][] rows = new float[Math.max(1, batch)][ImageEvent.PIXELS];
    java.util.Random random = new java.util.Random(7);
    for (int i = 1; i < rows.length; i += 2) {
      for (int p = 0; p < ImageEvent.PIXELS; p++) {
        rows[i][p] = random.nextFloat();
      }
    }
    for (int pass = 0; pass < concurrency * Math.max(1, passes); pass++) {
      float[][] out;
      try {
        out = network.probabilities(rows);
      } catch (RuntimeException e) {
        throw new WireFormatException(
            Reason.INVALID_VALUE,
            "checkpoint v" + version() + " fails its warm-up forward pass: " + e.getMessage(),
            e);
      }
      checkProbabilities(out, rows.length);
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

  /** Drops a reference; the last one closes the network. */
  void release() {
    int left = references.decrementAndGet();
    if (left == 0) {
      close();
    } else if (left < 0) {
      throw new IllegalStateException("model v" + version() + " released more often than retained");
    }
  }

  /**
   * One forward pass over {@code rows}, waiting while as many as the model allows are running. Call
   * between retain and release.
   *
   * @throws IllegalStateException when the engine fails or the wait is interrupted
   */
  float[][] predict(float[][] rows) {
    try {
      passes.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a forward pass", e);
    }
    try {
      return network.probabilities(rows);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "forward pass on model v" + version() + " failed: " + e.getMessage(), e);
    } finally {
      passes.release();
    }
  }

  /** For a model that never served (warm-up failed): close it now. */
  void discard() {
    release();
  }

  private void close() {
    network.close();
    LOG.debugf("Closed model v%d", version());
    onClosed.run();
  }
}
