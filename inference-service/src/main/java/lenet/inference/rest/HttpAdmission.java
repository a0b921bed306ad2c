package lenet.inference.rest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import lenet.inference.config.InferenceConfig;

/**
 * Bounds on the HTTP predictions in flight, waiting for the model included; one more is refused at
 * once ({@link OverloadedException}, 503 with {@code Retry-After}) rather than queued, so a flood
 * of requests costs a bounded amount of memory and every answer comes promptly. Two kinds, as they
 * weigh differently: single images ({@code inference.http.max-concurrent}; a few KB each, decoded
 * images are bounded apart by the image decoder's threads) and Open Inference Protocol batches
 * ({@code inference.http.max-concurrent-batches}; each holds its body, up to 2 MB, and its rows,
 * and one the fast reader declines is read into a JSON tree of up to ~16 MB). Counted ({@code
 * inference_http_refused_total{kind}}), with the number in flight as a gauge per kind.
 */
@ApplicationScoped
public class HttpAdmission {

  /** What a request takes a place in. */
  public enum Kind {
    IMAGE,
    BATCH
  }

  private record Places(int limit, Semaphore permits, Counter refused, String setting) {}

  private final Map<Kind, Places> places = new EnumMap<>(Kind.class);

  HttpAdmission(InferenceConfig config, MeterRegistry registry) {
    add(registry, Kind.IMAGE, config.httpMaxConcurrent(), "inference.http.max-concurrent");
    add(
        registry,
        Kind.BATCH,
        config.httpMaxConcurrentBatches(),
        "inference.http.max-concurrent-batches");
  }

  private void add(MeterRegistry registry, Kind kind, int limit, String setting) {
    String tag = kind.name().toLowerCase(Locale.ROOT);
    Semaphore permits = new Semaphore(limit);
    Counter refused =
        Counter.builder("inference.http.refused")
            .description("HTTP predictions refused with 503: the concurrent limit was reached")
            .tag("kind", tag)
            .register(registry);
    Gauge.builder("inference.http.in.flight", permits, p -> limit - p.availablePermits())
        .description("HTTP predictions in flight now")
        .tag("kind", tag)
        .register(registry);
    places.put(kind, new Places(limit, permits, refused, setting));
  }

  /** How many requests of {@code kind} may be in flight at once. */
  public int limit(Kind kind) {
    return places.get(kind).limit();
  }

  /**
   * Starts {@code work} when a place of its kind is free, else refuses it at once; the place is
   * given back when the answer {@code work} returns completes (or when {@code work} throws).
   */
  public <T> CompletionStage<T> admit(Kind kind, Supplier<? extends CompletionStage<T>> work) {
    Places p = places.get(kind);
    if (!p.permits().tryAcquire()) {
      p.refused().increment();
      throw new OverloadedException(p.limit(), p.setting());
    }
    CompletionStage<T> answer;
    try {
      answer = work.get();
    } catch (RuntimeException | Error e) {
      p.permits().release();
      throw e;
    }
    return answer.whenComplete((result, failure) -> p.permits().release());
  }

  /** Every place is taken: the client should come back shortly. */
  public static final class OverloadedException extends RuntimeException {
    OverloadedException(int limit, String setting) {
      super("busy: " + limit + " predictions are in flight (" + setting + "); retry shortly");
    }
  }
}
