package lenet.trainer.runs;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.TrainingEvent.EpochMetrics;
import lenet.support.kafka.Backoff;
import lenet.support.kafka.Retry;
import lenet.trainer.kafka.TrainingPublisher;
import lenet.trainer.training.Evaluation;
import org.jboss.logging.Logger;

/**
 * One run's publications (its STARTED, each epoch's checkpoint and EPOCH event, its end), written
 * to Kafka in order by a thread of their own, so that training never waits for the broker. While
 * the broker is away the run trains on and its trained epochs wait here, at most {@code capacity}
 * of them (each holds its parameters, about 250 KB); when that many wait, training pauses until the
 * broker takes one. Each publication is retried with backoff until the broker acknowledges it,
 * however long the outage; nothing is dropped and nothing overtakes. A publication that was retried
 * after a send whose outcome was unknown may be stored twice (a checkpoint under the same key, or a
 * repeated event that the projections take as the same).
 */
final class RunOutbox implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(RunOutbox.class);

  private final String runId;
  private final TrainingPublisher publisher;
  private final int capacity;
  private final Semaphore room;
  private final AtomicInteger waiting = new AtomicInteger();
  private final ExecutorService writer;
  private final Tracer tracer;
  private volatile long lastVersion;

  RunOutbox(String runId, TrainingPublisher publisher, int capacity) {
    this(runId, publisher, capacity, OpenTelemetry.noop().getTracer("lenet.trainer"));
  }

  /**
   * Publishes in the trace of whoever queues (the run's span): each epoch's publication is an
   * {@code epoch} span of {@code tracer} there, its checkpoint and EPOCH event carry it.
   */
  RunOutbox(String runId, TrainingPublisher publisher, int capacity, Tracer tracer) {
    this.tracer = tracer;
    this.runId = runId;
    this.publisher = publisher;
    this.capacity = capacity;
    this.room = new Semaphore(capacity);
    this.writer =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "training-publish");
              t.setDaemon(true);
              return t;
            });
  }

  /** The run goes on from checkpoint {@code version}: the last published one until the next. */
  void resumedAt(long version) {
    lastVersion = version;
  }

  /** Publishes {@code event} after everything before it. */
  void event(TrainingEvent event) {
    submit(() -> retry(event.type() + " event", () -> publisher.event(event)));
  }

  /** Publishes the run's end, built with the version of its last published checkpoint. */
  void end(LongFunction<TrainingEvent> withLastVersion) {
    submit(
        () -> {
          TrainingEvent event = withLastVersion.apply(lastVersion);
          retry(event.type() + " event", () -> publisher.event(event));
        });
  }

  /**
   * Queues an epoch's checkpoint (a new version) and its EPOCH event; waits while {@code capacity}
   * trained epochs are waiting already.
   *
   * @throws InterruptedException when the trainer stops while waiting
   */
  void epoch(int epoch, int epochs, EpochMetrics m, Evaluation test, byte[] parameters)
      throws InterruptedException {
    if (!room.tryAcquire()) {
      LOG.warnf(
          "Run %s: %d trained epochs wait for Kafka (trainer.outbox-epochs); training waits until"
              + " the broker takes them",
          runId, capacity);
      room.acquire();
    }
    waiting.incrementAndGet();
    submit(
        () -> {
          Span span =
              tracer
                  .spanBuilder("epoch")
                  .setAttribute("lenet.run.id", runId)
                  .setAttribute("lenet.epoch", (long) epoch)
                  .startSpan();
          try (Scope in = span.makeCurrent()) {
            long v = retry("version claim", () -> publisher.claimVersion(runId, epoch));
            span.setAttribute("lenet.model.version", v);
            retry(
                "checkpoint v" + v,
                () -> publisher.sendCheckpoint(v, runId, epoch, epochs, m, test, parameters));
            lastVersion = v;
            retry(
                "EPOCH " + epoch + " event",
                () -> publisher.event(TrainingEvent.epoch(runId, epoch, epochs, m, v)));
          } finally {
            span.end();
            waiting.decrementAndGet();
            room.release();
          }
        });
  }

  /** Trained epochs whose checkpoint or event is not acknowledged yet. */
  int waiting() {
    return waiting.get();
  }

  /**
   * Waits until everything queued so far is published.
   *
   * @throws InterruptedException when the trainer stops while waiting
   */
  void flush() throws InterruptedException {
    Future<?> done = writer.submit(() -> {});
    try {
      done.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("run " + runId + " could not publish", e.getCause());
    }
  }

  /** Stops the writer; what was not published yet is dropped (the trainer is stopping). */
  @Override
  public void close() {
    writer.shutdownNow();
  }

  private void submit(Runnable publication) {
    writer.execute(Context.current().wrap(publication)); // in the queuer's trace
  }

  private void retry(String what, Runnable send) {
    retry(
        what,
        () -> {
          send.run();
          return 0L;
        });
  }

  /**
   * Runs {@code send} until the broker takes it, for as long as an outage lasts: a run's events and
   * checkpoints are not dropped because Kafka was away.
   */
  private long retry(String what, Supplier<Long> send) {
    return Retry.untilDone(
        Backoff.brokerOutage(),
        Retry.ANY,
        Retry.saying(LOG::warn, "Run " + runId + ": " + what, "training goes on"),
        send::get);
  }
}
