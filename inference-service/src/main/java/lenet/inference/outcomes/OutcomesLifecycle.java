package lenet.inference.outcomes;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.jboss.logging.Logger;

/**
 * Keeps the outcomes join running and visible: a stream thread that fails (a long broker outage
 * past Kafka Streams' own retries, say) is replaced, never left dead, with a log line and a count
 * ({@code inference_outcomes_thread_failures_total}); the application's state is a gauge ({@code
 * inference_outcomes_running}: 1 while RUNNING or REBALANCING) and a log line on each change.
 * Quarkus hands both to the Kafka Streams it runs.
 */
@ApplicationScoped
public class OutcomesLifecycle
    implements StreamsUncaughtExceptionHandler, KafkaStreams.StateListener {

  private static final Logger LOG = Logger.getLogger(OutcomesLifecycle.class);

  private final AtomicReference<KafkaStreams.State> state =
      new AtomicReference<>(KafkaStreams.State.CREATED);
  private final Counter failures;

  OutcomesLifecycle(MeterRegistry registry) {
    failures =
        Counter.builder("inference.outcomes.thread.failures")
            .description("Outcomes-join stream threads that failed and were replaced")
            .register(registry);
    Gauge.builder(
            "inference.outcomes.running", state, s -> s.get().isRunningOrRebalancing() ? 1 : 0)
        .description("1 while the outcomes join runs (Kafka Streams RUNNING or REBALANCING)")
        .register(registry);
  }

  @Override
  public StreamThreadExceptionResponse handle(Throwable exception) {
    failures.increment();
    LOG.errorf(
        exception, "An outcomes-join thread failed; it is replaced: %s", exception.getMessage());
    return StreamThreadExceptionResponse.REPLACE_THREAD;
  }

  @Override
  public void onChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
    state.set(newState);
    LOG.infof("Outcomes join: %s -> %s", oldState, newState);
  }

  KafkaStreams.State state() {
    return state.get();
  }
}
