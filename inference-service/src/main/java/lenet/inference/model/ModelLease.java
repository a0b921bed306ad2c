package lenet.inference.model;

import java.util.concurrent.atomic.AtomicBoolean;
import lenet.contract.wire.Checkpoint;

/**
 * One request's hold on a model version: the model stays open until every lease on it is closed.
 */
public final class ModelLease implements AutoCloseable {
  private final ServingModel model;
  private final AtomicBoolean closed = new AtomicBoolean();

  ModelLease(ServingModel model) {
    this.model = model;
  }

  public long version() {
    return model.version();
  }

  public Checkpoint.Header header() {
    return model.header();
  }

  /**
   * Softmax probabilities, one row of 10 per input row of 784 values in [0,1]; one forward pass.
   */
  public float[][] predict(float[][] rows) {
    return model.predict(rows);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      model.release();
    }
  }
}
