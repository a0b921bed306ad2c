package lenet.support.kafka;

import java.time.Duration;

/**
 * How long to wait before the next try after a failure: {@code first}, doubling after each failure
 * up to {@code max}, back to {@code first} after a success ({@link #reset}). One per loop, not
 * shared between threads.
 *
 * <p>Kafka's own {@code org.apache.kafka.common.utils.ExponentialBackoff} is not part of its public
 * API and reaches its cap through logarithms (a 5 s cap gives 4,999 ms); SmallRye Fault Tolerance's
 * retry is an interceptor for CDI beans (its standalone API is a dependency this project does not
 * have), and two of the three loops are not bean methods. So this is the one hand-written curve,
 * and {@link Retry} the one loop around it.
 */
public final class Backoff {

  private final Duration first;
  private final Duration max;
  private Duration next;
  private int failures;

  private Backoff(Duration first, Duration max) {
    if (first.isNegative() || max.isNegative()) {
      throw new IllegalArgumentException("a backoff cannot be negative: " + first + ", " + max);
    }
    this.first = first.compareTo(max) > 0 ? max : first;
    this.max = max;
    this.next = this.first;
  }

  /** {@code first}, doubling to {@code max} (a cap below {@code first} caps every wait). */
  public static Backoff doubling(Duration first, Duration max) {
    return new Backoff(first, max);
  }

  /** 1 s doubling to 30 s: the pipeline's choice for waiting out a broker outage. */
  public static Backoff brokerOutage() {
    return doubling(Duration.ofSeconds(1), Duration.ofSeconds(30));
  }

  /** Counts one more failure and returns the wait before the next try. */
  public Duration next() {
    Duration wait = next;
    failures++;
    next = next.multipliedBy(2).compareTo(max) > 0 ? max : next.multipliedBy(2);
    return wait;
  }

  /** Failures since the last success. */
  public int failures() {
    return failures;
  }

  /** A success: the next failure waits {@code first} again. */
  public void reset() {
    next = first;
    failures = 0;
  }
}
