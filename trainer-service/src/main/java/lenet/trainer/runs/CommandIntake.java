package lenet.trainer.runs;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import lenet.contract.wire.CancelCommand;
import lenet.contract.wire.TrainingCommand;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.WireFormatException;
import lenet.trainer.TrainerConfig;
import lenet.trainer.kafka.RunHistory;
import lenet.trainer.kafka.TrainingPublisher;
import lenet.trainer.training.NetworkSummary;
import lenet.trainer.training.RunSpec;
import lenet.trainer.training.Training;
import org.jboss.logging.Logger;

/**
 * Takes each command record as it arrives, also while a run is active: a bad one gets its FAILED
 * event at once (under the run id the sender gave, read leniently, else the record key, else {@code
 * run-<offset>}), a cancel stops its run, a valid one is queued with a QUEUED event that says its
 * position. One runner thread runs the queue in order. A command record is acknowledged when its
 * run is over (or at once when it is bad, a cancel or a duplicate); a run cut by the trainer
 * stopping is not, so it runs again after a restart.
 */
@ApplicationScoped
public class CommandIntake {

  private static final Logger LOG = Logger.getLogger(CommandIntake.class);

  private final TrainerConfig config;
  private final RunService runs;
  private final TrainingPublisher publisher;
  private final RunHistory history;
  private final RunLimits limits;
  private final NetworkSummary network;
  private final RunQueue queue = new RunQueue();
  private final Counter rejected;
  private final Tracer tracer;
  private Thread runner;

  CommandIntake(
      TrainerConfig config,
      RunService runs,
      TrainingPublisher publisher,
      RunHistory history,
      RunLimits limits,
      NetworkSummary network,
      MeterRegistry registry,
      OpenTelemetry otel) {
    this.tracer = otel.getTracer("lenet.trainer");
    this.network = network;
    this.config = config;
    this.runs = runs;
    this.publisher = publisher;
    this.history = history;
    this.limits = limits;
    this.rejected =
        Counter.builder("trainer.commands.rejected")
            .description("Malformed commands")
            .register(registry);
    Gauge.builder("trainer.queue.size", queue, q -> q.waitingIds().size())
        .description("Accepted commands waiting to run")
        .register(registry);
  }

  void onStart(@Observes StartupEvent event) {
    // Every libtorch op of this trainer runs on this one thread, the summary first (NetworkSummary
    // says why: more threads using libtorch made its OpenMP workers sleep, training 1.2-1.4x
    // slower).
    runner =
        new Thread(
            () -> {
              network.buildHere();
              warmUp();
              runQueue();
            },
            "training-run");
    runner.setDaemon(true);
    runner.start();
  }

  /** The JIT warm-up ({@code trainer.jit-warm-up-steps}); a failure is logged, never fatal. */
  private void warmUp() {
    int steps = config.jitWarmUpSteps();
    if (steps <= 0) {
      return;
    }
    try {
      RunSpec like =
          RunSpec.of(
              "jit-warm-up", new TrainingCommand(null, 1, null, null, null, null, null), config);
      double seconds = Training.warmUp(like, Training.device(config.device()), steps);
      LOG.infof("JIT warm-up: %d training steps on random images in %.1f s", steps, seconds);
    } catch (RuntimeException e) {
      LOG.warnf(e, "JIT warm-up failed; the first run's first epoch will be slower");
    }
  }

  void onStop(@Observes ShutdownEvent event) {
    if (runner != null) {
      runner.interrupt();
    }
  }

  /**
   * Handles one command record; returns at once (a run waits in the queue).
   *
   * @param ack acknowledges the record: called when its run is over, or now for a bad command, a
   *     cancel or a duplicate
   */
  public void accept(String key, byte[] payload, long offset, Runnable ack) {
    accept(key, payload, offset, ack, Context.root());
  }

  /**
   * As {@link #accept(String, byte[], long, Runnable)}, for a record that came in {@code trace}:
   * the events written for it carry that trace, and its run continues it.
   */
  public void accept(String key, byte[] payload, long offset, Runnable ack, Context trace) {
    try (Scope in = trace.makeCurrent()) {
      judge(key, payload, offset, ack, trace);
    }
  }

  private void judge(String key, byte[] payload, long offset, Runnable ack, Context trace) {
    if (CancelCommand.isCancel(payload)) {
      cancel(payload, offset);
      ack.run();
      return;
    }
    String fallbackId = TrainingCommand.validRunId(key) ? key : "run-" + offset;
    RunSpec spec;
    try {
      TrainingCommand command = TrainingCommand.decode(payload);
      spec = RunSpec.of(Optional.ofNullable(command.runId()).orElse(fallbackId), command, config);
      limits.check(spec);
    } catch (WireFormatException e) {
      String runId = TrainingCommand.lenientRunId(payload).orElse(fallbackId);
      rejected.increment();
      LOG.warnf("Rejected command at offset %d (run %s): %s", offset, runId, e.describe());
      publisher.event(TrainingEvent.failed(runId, "bad command: " + e.describe()));
      ack.run();
      return;
    }
    RunHistory.Summary past = history.of(spec.runId());
    if (!firstTimeOrResumable(spec.runId(), past, offset)) {
      ack.run();
      return;
    }
    boolean queued =
        queue.submit(
            new RunQueue.Item(spec, past.lastEpoch(), ack, trace),
            position -> {
              publisher.event(
                  TrainingEvent.queued(
                      spec.runId(), spec.epochs(), position, RunService.describe(spec)));
              LOG.infof("Run %s queued at position %d", spec.runId(), position);
            });
    if (!queued) {
      LOG.warnf(
          "Ignored command at offset %d: run %s already waits or runs (send another runId to run it"
              + " again)",
          offset, spec.runId());
      ack.run();
    }
  }

  /**
   * Judges a command by what Kafka already says of its run: one that ended (COMPLETED or CANCELLED)
   * is not run again; one that started {@code trainer.max-attempts} times without an end (the
   * trainer killed or stopped each time) ends FAILED.
   */
  private boolean firstTimeOrResumable(String runId, RunHistory.Summary past, long offset) {
    if (past.ended() != null) {
      LOG.infof(
          "Command at offset %d for run %s: that run already %s; not running it again",
          offset, runId, past.ended());
      return false;
    }
    if (past.starts() >= config.maxAttempts()) {
      String message =
          "run "
              + runId
              + " started "
              + past.starts()
              + " times without finishing (the trainer was killed or stopped each time); given up"
              + " after trainer.max-attempts="
              + config.maxAttempts();
      LOG.warn(message);
      publisher.event(TrainingEvent.failed(runId, message));
      return false;
    }
    if (past.starts() > 0) {
      LOG.infof(
          "Run %s was cut short %d time(s); %s (attempt %d of %d)",
          runId,
          past.starts(),
          past.lastEpoch() == null
              ? "running it again"
              : "resuming it after epoch " + past.lastEpoch().epoch(),
          past.starts() + 1,
          config.maxAttempts());
    }
    return true;
  }

  private void cancel(byte[] payload, long offset) {
    CancelCommand cancel;
    try {
      cancel = CancelCommand.decode(payload);
    } catch (WireFormatException e) {
      rejected.increment();
      LOG.warnf("Rejected cancel command at offset %d: %s", offset, e.describe());
      return;
    }
    List<RunQueue.Item> removed = new ArrayList<>();
    switch (queue.cancel(cancel.cancel(), removed)) {
      case WAITING -> {
        publisher.event(TrainingEvent.cancelled(cancel.cancel(), 0, "cancelled while queued"));
        removed.forEach(item -> item.done().run());
        LOG.infof("Run %s cancelled while queued", cancel.cancel());
      }
      case RUNNING ->
          LOG.infof("Run %s stops at the end of its current epoch (cancelled)", cancel.cancel());
      case UNKNOWN ->
          LOG.warnf(
              "Cancel of run %s at offset %d: no such run waits or runs", cancel.cancel(), offset);
    }
  }

  /** Run ids waiting, next first. */
  public List<String> waiting() {
    return queue.waitingIds();
  }

  public Optional<String> running() {
    return queue.runningId();
  }

  /**
   * This trainer lost the command partition (a rebalance, or it is stopping): waiting commands are
   * dropped unacknowledged and the running run stops at its epoch's end without an event; the
   * trainer that owns the partition now receives them and runs them (a cut run counts as one of its
   * {@code trainer.max-attempts}).
   */
  public void handOver() {
    List<String> ids = queue.handOver();
    if (!ids.isEmpty()) {
      LOG.infof("Commands moved to another trainer (rebalance): handing over %s", ids);
    }
  }

  private void runQueue() {
    while (!Thread.currentThread().isInterrupted()) {
      RunQueue.Item item;
      try {
        item = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      // The run's span, in its command's trace: its epochs' checkpoints and events are in it.
      Span span =
          tracer
              .spanBuilder("train")
              .setParent(item.trace())
              .setAttribute("lenet.run.id", item.runId())
              .setAttribute("lenet.run.epochs", (long) item.spec().epochs())
              .startSpan();
      try (Scope in = span.makeCurrent()) {
        if (runs.run(item.spec(), item.resumeAfter(), () -> queue.stopRequested(item.runId()))) {
          item.done().run();
        }
      } catch (CancellationException e) {
        return; // the trainer stops: the command stays unacknowledged and runs after a restart
      } catch (RuntimeException e) {
        span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
        // Not even its FAILED event could be written (the broker gone for longer than the
        // producers wait): the runner goes on; the command stays unacknowledged and runs again
        // after a restart or a rebalance.
        LOG.errorf(
            e,
            "Run %s could not finish nor report it (%s); its command runs again after a restart",
            item.runId(),
            e.getMessage());
      } finally {
        span.end();
        queue.finished(item);
      }
    }
  }
}
