package lenet.inference.rest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import lenet.inference.config.InferenceConfig;

/**
 * At most {@code inference.http.max-concurrent} HTTP predictions at once: one more is refused at
 * once ({@link OverloadedException}, 503 with {@code Retry-After}) rather than queued, so a flood
 * of requests costs a bounded amount of memory and CPU and every answer comes promptly. Counted
 * ({@code inference_http_refused_total}), with the number in flight as a gauge.
 */
@ApplicationScoped
public class HttpAdmission {

  private final int limit;
  private final Semaphore permits;
  private final Counter refused;

  HttpAdmission(InferenceConfig config, MeterRegistry registry) {
    this.limit = config.httpMaxConcurrent();
    this.permits = new Semaphore(limit);
    this.refused =
        Counter.builder("inference.http.refused")
            .description("HTTP predictions refused with 503: the concurrent limit was reached")
            .register(registry);
    Gauge.builder("inference.http.in.flight", permits, p -> limit - p.availablePermits())
        .description("HTTP predictions being computed now")
        .register(registry);
  }

  /** Runs {@code work} when a place is free, else refuses it at once. */
  public <T> T admit(Supplier<T> work) {
    if (!permits.tryAcquire()) {
      refused.increment();
      throw new OverloadedException(limit);
    }
    try {
      return work.get();
    } finally {
      permits.release();
    }
  }

  /**
   * Starts {@code work} when a place is free, else refuses it at once; the place is given back when
   * the answer {@code work} returns completes (or when {@code work} throws).
   */
  public <T> CompletionStage<T> admitAsync(Supplier<? extends CompletionStage<T>> work) {
    if (!permits.tryAcquire()) {
      refused.increment();
      throw new OverloadedException(limit);
    }
    CompletionStage<T> answer;
    try {
      answer = work.get();
    } catch (RuntimeException | Error e) {
      permits.release();
      throw e;
    }
    return answer.whenComplete((result, failure) -> permits.release());
  }

  /** Every place is taken: the client should come back shortly. */
  public static final class OverloadedException extends RuntimeException {
    OverloadedException(int limit) {
      super(
          "busy: "
              + limit
              + " predictions are being computed (inference.http.max-concurrent); retry shortly");
    }
  }
}
