package lenet.support.kafka;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The pipeline's one retry loop: runs a piece of work until it succeeds, waiting as a {@link
 * Backoff} says between tries, for as long as a broker outage lasts. A failure the caller does not
 * call {@code retryable} ends it at once (rethrown); so does the thread's interruption while
 * waiting (the last failure is rethrown, the interrupt flag kept), which is how a stopping service
 * ends it.
 */
public final class Retry {

  /** The work: a Kafka write, a read and write, a whole attempt. */
  @FunctionalInterface
  public interface Work<T, X extends Exception> {
    T get() throws X;
  }

  /** Told of each failure that will be tried again: for a log line, a status, a metric. */
  @FunctionalInterface
  public interface Failed {
    /**
     * @param attempt 1 for the first try
     * @param wait how long until the next try
     */
    void failed(RuntimeException cause, int attempt, Duration wait);
  }

  /**
   * Tells {@code log} of each failure in one line: "{@code what} not done (attempt 3: cause);
   * trying again in 4 s, {@code then}".
   *
   * @param what names the work ("Run r1: version claim")
   * @param then what goes on meanwhile ("training goes on")
   */
  public static Failed saying(Consumer<String> log, String what, String then) {
    return (e, attempt, wait) ->
        log.accept(
            String.format(
                "%s not done (attempt %d: %s); trying again in %d s, %s",
                what, attempt, e.getMessage(), wait.toSeconds(), then));
  }

  /** Every runtime failure is worth another try. */
  public static final Predicate<RuntimeException> ANY = e -> true;

  private Retry() {}

  /**
   * Runs {@code work} until it returns, and returns what it returned.
   *
   * @throws X what {@code work} throws besides runtime failures (not retried)
   * @throws RuntimeException a failure {@code retryable} refuses, or the last one when the thread
   *     is interrupted
   */
  public static <T, X extends Exception> T untilDone(
      Backoff backoff, Predicate<RuntimeException> retryable, Failed onFailure, Work<T, X> work)
      throws X {
    for (int attempt = 1; ; attempt++) {
      try {
        T result = work.get();
        backoff.reset();
        return result;
      } catch (RuntimeException e) {
        if (!retryable.test(e) || Thread.currentThread().isInterrupted()) {
          throw e;
        }
        Duration wait = backoff.next();
        onFailure.failed(e, attempt, wait);
        try {
          Thread.sleep(wait.toMillis());
        } catch (InterruptedException stop) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /** Whether {@code e} is (or was caused by) a Kafka client failure. */
  public static boolean kafkaTrouble(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof org.apache.kafka.common.KafkaException) {
        return true;
      }
    }
    return false;
  }
}
