package lenet.inference.model;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.Prediction;

/**
 * A candidate that passed its gate, scoring a sample of live requests beside the champion without
 * answering them: how often it agrees with the champion's digit, and how long its forward passes
 * take. Runs on one thread of its own with a short queue; when the queue is full a sample is
 * dropped, so shadowing never slows the answers.
 */
final class ShadowRun implements AutoCloseable {

  private final ServingModel candidate;
  private final GateOutcome gate;
  private final int minImages;
  private final Runnable onEnough;
  private final ThreadPoolExecutor worker =
      new ThreadPoolExecutor(
          1,
          1,
          0,
          TimeUnit.SECONDS,
          new ArrayBlockingQueue<>(4),
          r -> {
            Thread t = new Thread(r, "shadow-scoring");
            t.setDaemon(true);
            return t;
          });
  private final LongAdder images = new LongAdder();
  private final LongAdder agreed = new LongAdder();
  private final LongAdder nanos = new LongAdder();
  private final LongAdder batches = new LongAdder();
  private final AtomicBoolean enough = new AtomicBoolean();

  /**
   * @param candidate loaded and warmed; this run owns it and closes it
   * @param onEnough runs once, on the shadow thread, when {@code minImages} were shadowed
   */
  ShadowRun(ServingModel candidate, GateOutcome gate, int minImages, Runnable onEnough) {
    this.candidate = candidate;
    this.gate = gate;
    this.minImages = minImages;
    this.onEnough = onEnough;
  }

  long version() {
    return candidate.version();
  }

  GateOutcome gate() {
    return gate;
  }

  /** Offers a scored batch: the candidate scores the same rows later, if the queue has room. */
  void offer(float[][] rows, float[][] championOutput) {
    try {
      worker.execute(() -> score(rows, championOutput));
    } catch (RejectedExecutionException e) {
      // Busy or closed: this sample is skipped.
    }
  }

  private void score(float[][] rows, float[][] championOutput) {
    if (!candidate.retain()) {
      return;
    }
    try {
      long t0 = System.nanoTime();
      float[][] out = candidate.predict(rows);
      nanos.add(System.nanoTime() - t0);
      batches.increment();
      int same = 0;
      for (int i = 0; i < out.length; i++) {
        same += Prediction.argMax(out[i]) == Prediction.argMax(championOutput[i]) ? 1 : 0;
      }
      agreed.add(same);
      images.add(out.length);
    } catch (RuntimeException e) {
      // A failing shadow pass shows as missing samples; the answers are unaffected.
    } finally {
      candidate.release();
    }
    if (images.sum() >= minImages && enough.compareAndSet(false, true)) {
      onEnough.run();
    }
  }

  /** The figures so far. */
  ModelControl.Shadow figures() {
    long n = images.sum();
    long b = batches.sum();
    return new ModelControl.Shadow(
        n, n == 0 ? 0 : agreed.sum() / (double) n, b == 0 ? 0 : nanos.sum() / 1e6 / b);
  }

  @Override
  public void close() {
    worker.shutdownNow();
    try {
      worker.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    candidate.release();
  }
}
