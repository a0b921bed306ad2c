package lenet.trainer.kafka;

import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Runs a Kafka write (or a read and write) until it succeeds, backing off 1 s doubling to 30 s
 * between tries with a log line each, for as long as a broker outage lasts; gives up only when the
 * thread is interrupted (the trainer stopping), rethrowing the last failure.
 */
public final class UntilDone {

  private static final Logger LOG = Logger.getLogger(UntilDone.class);
  private static final long FIRST_BACKOFF_MS = 1000;
  private static final long MAX_BACKOFF_MS = 30_000;

  private UntilDone() {}

  /**
   * @param what names the work in the log line ("Run r1: version claim")
   * @param then what goes on meanwhile, for the log line ("training goes on")
   */
  public static <T> T run(String what, String then, Supplier<T> work) {
    long backoff = FIRST_BACKOFF_MS;
    for (int attempt = 1; ; attempt++) {
      try {
        return work.get();
      } catch (RuntimeException e) {
        if (Thread.currentThread().isInterrupted()) {
          throw e;
        }
        LOG.warnf(
            "%s not done (attempt %d: %s); trying again in %d s, %s",
            what, attempt, e.getMessage(), backoff / 1000, then);
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException stop) {
          Thread.currentThread().interrupt();
          throw e;
        }
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** {@link #run} for work without a result. */
  public static void run(String what, String then, Runnable work) {
    run(
        what,
        then,
        () -> {
          work.run();
          return null;
        });
  }
}
