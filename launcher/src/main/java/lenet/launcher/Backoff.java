package lenet.launcher;

import java.time.Duration;

/**
 * How long a supervisor waits before it starts an exited process again: {@code first}, doubling on
 * every further exit up to {@code max}, and {@code first} again once a run lasted {@code stable} or
 * longer (a process that crashes now and then is not held back by crashes long past). The
 * pipeline's supervisors use 1 s doubling to 30 s, reset after a minute ({@link #PIPELINE}).
 */
public final class Backoff {

  public static final Backoff PIPELINE =
      new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(60));

  private final Duration first;
  private final Duration max;
  private final Duration stable;
  private Duration next;

  public Backoff(Duration first, Duration max, Duration stable) {
    this.first = first;
    this.max = max;
    this.stable = stable;
    this.next = first;
  }

  /** A fresh backoff with the same steps (each supervised process keeps its own). */
  public Backoff fresh() {
    return new Backoff(first, max, stable);
  }

  /** The wait before the next start, after a run that lasted {@code ranFor}. */
  public Duration after(Duration ranFor) {
    if (ranFor.compareTo(stable) >= 0) {
      next = first;
    }
    Duration wait = next;
    Duration doubled = next.multipliedBy(2);
    next = doubled.compareTo(max) > 0 ? max : doubled;
    return wait;
  }
}
