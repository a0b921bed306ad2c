package lenet.inference.model;

import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The canary this replica runs, if any: a candidate loaded beside the champion that answers a share
 * of live requests for real ({@link #lease}), its version on each answer. Swapped and closed by the
 * gate's thread; read by every request. A canary swapped out finishes the requests in flight on it,
 * then closes (its native memory with it).
 */
final class CanarySlot implements AutoCloseable {

  private final AtomicReference<ServingModel> current = new AtomicReference<>();
  private final double fraction;

  /**
   * @param fraction the share of requests a canary answers
   */
  CanarySlot(double fraction) {
    this.fraction = fraction;
  }

  /** A lease on the canary for a share {@code fraction} of the calls, else empty. */
  Optional<ModelLease> lease() {
    ServingModel m = current.get();
    if (m == null || ThreadLocalRandom.current().nextDouble() >= fraction || !m.retain()) {
      return Optional.empty();
    }
    return Optional.of(new ModelLease(m));
  }

  /** The version that runs as canary here. */
  Optional<Long> version() {
    ServingModel m = current.get();
    return m == null ? Optional.empty() : Optional.of(m.version());
  }

  /** Runs {@code next} as the canary (null: none); the one before closes once drained. */
  void swap(ServingModel next) {
    ServingModel old = current.getAndSet(next);
    if (old != null) {
      old.release();
    }
  }

  @Override
  public void close() {
    swap(null);
  }
}
