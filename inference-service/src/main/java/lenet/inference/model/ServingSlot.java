package lenet.inference.model;

import ai.djl.Device;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import lenet.contract.wire.Checkpoint;

/**
 * The one model that answers requests, and the swap to another: a new model is loaded, warmed up
 * and checked off the request path, then swapped in atomically; the old one finishes its requests
 * in flight and closes when the last one releases it, so native memory does not grow with reloads.
 */
final class ServingSlot {

  private final Device device;
  private final int predictors;
  private final AtomicReference<ServingModel> current = new AtomicReference<>();
  private final CompletableFuture<Void> firstModel = new CompletableFuture<>();
  private final AtomicInteger liveModels = new AtomicInteger();
  private final AtomicLong loadAttempts = new AtomicLong();
  private final AtomicLong swaps = new AtomicLong();

  ServingSlot(Device device, int predictors) {
    this.device = device;
    this.predictors = predictors;
  }

  /**
   * Loads {@code checkpoint} for {@code poolSize} forward passes at once and warms it up, counting
   * it as a live model until it closes. The caller owns the result (release or discard it).
   *
   * @throws lenet.contract.wire.WireFormatException when it does not load or its outputs are not
   *     probabilities
   */
  ServingModel load(Checkpoint checkpoint, int poolSize, int warmUpPasses, int warmUpBatch) {
    loadAttempts.incrementAndGet();
    liveModels.incrementAndGet();
    ServingModel fresh;
    try {
      fresh = ServingModel.load(checkpoint, device, poolSize, liveModels::decrementAndGet);
    } catch (RuntimeException e) {
      liveModels.decrementAndGet();
      throw e;
    }
    try {
      fresh.warmUp(warmUpPasses, warmUpBatch);
    } catch (RuntimeException e) {
      fresh.discard();
      throw e;
    }
    return fresh;
  }

  /** Loads, warms and swaps in {@code checkpoint}; returns the version it replaced, if any. */
  Optional<Long> swapIn(Checkpoint checkpoint, int warmUpPasses, int warmUpBatch) {
    ServingModel fresh = load(checkpoint, predictors, warmUpPasses, warmUpBatch);
    ServingModel old = current.getAndSet(fresh);
    swaps.incrementAndGet();
    if (old != null) {
      old.release();
    }
    firstModel.complete(null);
    return old == null ? Optional.empty() : Optional.of(old.version());
  }

  /** A lease on the serving model, or empty before the first one. */
  Optional<ModelLease> lease() {
    while (true) {
      ServingModel s = current.get();
      if (s == null) {
        return Optional.empty();
      }
      if (s.retain()) {
        return Optional.of(new ModelLease(s));
      }
      // That model was swapped out and drained between the read and the retain: read the new one.
    }
  }

  Optional<Checkpoint.Header> serving() {
    ServingModel s = current.get();
    return s == null ? Optional.empty() : Optional.of(s.header());
  }

  Optional<Long> servingVersion() {
    return serving().map(Checkpoint.Header::modelVersion);
  }

  CompletableFuture<Void> firstModel() {
    return firstModel;
  }

  int liveModels() {
    return liveModels.get();
  }

  long loadAttempts() {
    return loadAttempts.get();
  }

  long swaps() {
    return swaps.get();
  }

  void close() {
    ServingModel s = current.getAndSet(null);
    if (s != null) {
      s.release();
    }
  }
}
