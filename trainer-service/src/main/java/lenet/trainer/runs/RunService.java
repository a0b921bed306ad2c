package lenet.trainer.runs;

import ai.djl.Device;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import lenet.contract.wire.TrainingEvent;
import lenet.trainer.TrainerConfig;
import lenet.trainer.feedback.FeedbackMix;
import lenet.trainer.feedback.FeedbackReader;
import lenet.trainer.kafka.CheckpointReader;
import lenet.trainer.kafka.DatasetSource;
import lenet.trainer.kafka.TrainingPublisher;
import lenet.trainer.training.RunSpec;
import lenet.trainer.training.Training;
import lenet.trainer.training.TrainingData;
import org.jboss.logging.Logger;

/**
 * Runs one accepted command end to end: read the dataset (and the labelled feedback, when the
 * command asks for it), train, publish events and checkpoints.
 */
@ApplicationScoped
public class RunService {

  private static final Logger LOG = Logger.getLogger(RunService.class);

  private final TrainerConfig config;
  private final DatasetSource datasets;
  private final TrainingPublisher publisher;
  private final Counter completed;
  private final Counter failed;
  private final Counter cancelled;
  private final AtomicLong epochsDone = new AtomicLong();
  private final CheckpointReader checkpoints;
  private final FeedbackReader feedback;
  private final Tracer tracer;
  private volatile Current current;
  private volatile int trainedEpoch;
  private volatile int runEpochs;
  private final Timer epochTime;

  RunService(
      TrainerConfig config,
      DatasetSource datasets,
      TrainingPublisher publisher,
      CheckpointReader checkpoints,
      FeedbackReader feedback,
      MeterRegistry registry,
      OpenTelemetry otel) {
    this.tracer = otel.getTracer("lenet.trainer");
    this.checkpoints = checkpoints;
    this.feedback = feedback;
    this.config = config;
    this.datasets = datasets;
    this.publisher = publisher;
    this.completed = Counter.builder("trainer.runs").tag("outcome", "completed").register(registry);
    this.failed = Counter.builder("trainer.runs").tag("outcome", "failed").register(registry);
    this.cancelled = Counter.builder("trainer.runs").tag("outcome", "cancelled").register(registry);
    registry.more().counter("trainer.epochs", java.util.List.of(), epochsDone);
    this.epochTime =
        Timer.builder("trainer.epoch.duration")
            .description("Wall time of each trained epoch (training and its dev and test passes)")
            .register(registry);
    Gauge.builder("trainer.run.epoch", this, s -> s.current == null ? 0 : s.trainedEpoch)
        .description("The run in progress: its newest trained epoch; 0 when no run trains")
        .register(registry);
    Gauge.builder("trainer.run.epochs", this, s -> s.current == null ? 0 : s.runEpochs)
        .description("The run in progress: the epochs it trains; 0 when no run trains")
        .register(registry);
    registry.gauge(
        "trainer.epochs.waiting.for.kafka",
        this,
        s -> s.progress().map(Progress::waitingForKafka).orElse(0));
  }

  /**
   * Runs one accepted command to its end. Returns normally once the run has ended, well or badly (a
   * COMPLETED, FAILED or CANCELLED event says how) and all its events and checkpoints are on Kafka;
   * throws {@link CancellationException} when the trainer is stopping, so the command is not
   * acknowledged and runs again after a restart.
   *
   * @param resumeAfter the run's last published epoch when it was cut short before (the trainer
   *     killed), null for a first start: it goes on from that epoch's checkpoint when Kafka still
   *     holds it, else from scratch
   * @param stop asked before each epoch's checkpoint is queued: CANCEL stops the run there with a
   *     CANCELLED event, HAND_OVER without any (the epoch's checkpoint is not published either way)
   * @return false when the run was handed over (its command must not be acknowledged)
   */
  boolean run(RunSpec spec, TrainingEvent.Epoch resumeAfter, Supplier<RunQueue.Stop> stop) {
    String runId = spec.runId();
    try (RunOutbox outbox = new RunOutbox(runId, publisher, config.outboxEpochs(), tracer)) {
      trainedEpoch = 0;
      runEpochs = spec.epochs();
      current = new Current(runId, outbox);
      return run(spec, resumeAfter, stop, outbox);
    } finally {
      current = null;
    }
  }

  private boolean run(
      RunSpec spec,
      TrainingEvent.Epoch resumeAfter,
      Supplier<RunQueue.Stop> stop,
      RunOutbox outbox) {
    String runId = spec.runId();
    try {
      Device device = Training.device(config.device());
      Start start = startOf(spec, resumeAfter);
      Training.Start from = start.from();
      if (from.afterEpoch() > 0) {
        outbox.resumedAt(resumeAfter.modelVersion());
      }
      LOG.infof(
          "Run %s: %d epochs, batch %d, %s lr %.2g (%s), seed %d, on %s%s",
          runId,
          spec.epochs(),
          spec.batchSize(),
          spec.optimizer(),
          spec.learningRate(),
          spec.schedule(),
          spec.seed(),
          device,
          from.afterEpoch() > 0 ? ", resumed after epoch " + from.afterEpoch() : "");
      checkStop(stop, from.afterEpoch());
      TrainingData dataset = datasets.load(config.datasetWait());
      FeedbackMix.Mixed mixed =
          spec.feedbackShare() == null
              ? new FeedbackMix.Mixed(dataset, null)
              : FeedbackMix.mix(
                  dataset, feedback.read(), spec.feedbackShare(), config.feedbackHeldOut());
      TrainingData data = mixed.data();
      TrainingEvent.Data trainsOn = new TrainingEvent.Data(dataset.datasetId(), mixed.used());
      if (mixed.used() != null) {
        LOG.infof(
            "Run %s trains on %d feedback images beside %d of dataset %s, %d held out",
            runId,
            mixed.used().training(),
            dataset.train().count(),
            dataset.datasetId(),
            mixed.used().heldOut());
      }
      outbox.event(
          start.resumeRefused() != null
              ? TrainingEvent.notResumed(
                  runId,
                  spec.epochs(),
                  device.toString(),
                  describe(spec),
                  trainsOn,
                  start.resumeRefused())
              : TrainingEvent.resumed(
                  runId,
                  spec.epochs(),
                  device.toString(),
                  describe(spec),
                  trainsOn,
                  from.afterEpoch() > 0 ? from.afterEpoch() : null));
      long t0 = System.nanoTime();
      long[] epochStart = {t0};
      Training.Result result =
          Training.run(
              spec,
              data,
              device,
              (epoch, m, test, parameters) -> {
                checkStop(stop, epoch - 1);
                try {
                  outbox.epoch(epoch, spec.epochs(), m, test, parameters);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  throw new IllegalStateException("run " + runId + " stopped with the trainer");
                }
                epochsDone.incrementAndGet();
                trainedEpoch = epoch;
                long now = System.nanoTime();
                epochTime.record(now - epochStart[0], java.util.concurrent.TimeUnit.NANOSECONDS);
                epochStart[0] = now;
                double elapsed = (System.nanoTime() - t0) / 1e9;
                int done = epoch - from.afterEpoch();
                LOG.infof(
                    "Run %s epoch %d/%d: loss %.4f acc %.4f, dev loss %.4f acc %.4f%s, %.1f s (%.0f"
                        + " img/s), about %.0f s left%s",
                    runId,
                    epoch,
                    spec.epochs(),
                    m.loss(),
                    m.accuracy(),
                    m.devLoss(),
                    m.devAccuracy(),
                    m.feedbackAccuracy() != null
                        ? String.format(
                            ", held-out feedback acc %.4f (%d images)",
                            m.feedbackAccuracy(), m.feedbackImages())
                        : "",
                    m.seconds(),
                    m.imagesPerSecond(),
                    elapsed / done * (spec.epochs() - epoch),
                    outbox.waiting() > 1
                        ? ", " + outbox.waiting() + " epochs not yet on Kafka"
                        : "");
              },
              from);
      outbox.end(
          version ->
              TrainingEvent.completed(
                  runId,
                  spec.epochs(),
                  result.test().loss(),
                  result.test().accuracy(),
                  result.feedback() != null ? result.feedback().accuracy() : null,
                  result.feedback() != null ? data.feedback().count() : null,
                  version,
                  result.seconds()));
      outbox.flush();
      completed.increment();
      LOG.infof(
          "Run %s completed: test accuracy %.4f, loss %.4f, %.0f s",
          runId, result.test().accuracy(), result.test().loss(), result.seconds());
    } catch (RunHandedOver e) {
      flush(outbox);
      LOG.infof(
          "Run %s handed over after %d epochs: another trainer has its command now",
          runId, e.epochsDone);
      return false;
    } catch (RunCancelled e) {
      cancelled.increment();
      LOG.infof("Run %s cancelled after %d epochs", runId, e.epochsDone);
      String reason = "cancelled after " + e.epochsDone + " of " + spec.epochs() + " epochs";
      // The cancel is checked before each epoch's checkpoint is published, so a cancelled run never
      // publishes its final epoch: it has no candidate, and no gate ever judges it.
      outbox.event(TrainingEvent.cancelled(runId, e.epochsDone, reason));
      flush(outbox);
    } catch (RuntimeException | InterruptedException e) {
      if (e instanceof InterruptedException || Thread.currentThread().isInterrupted()) {
        LOG.warnf("Run %s stopped with the trainer; its command will run again on restart", runId);
        throw new CancellationException("trainer stopping");
      }
      failed.increment();
      LOG.errorf(e, "Run %s failed: %s", runId, e.getMessage());
      outbox.event(TrainingEvent.failed(runId, String.valueOf(e.getMessage())));
      flush(outbox);
    }
    return true;
  }

  /**
   * Where a run starts: after its last published epoch, from that checkpoint, when it was cut short
   * and Kafka still holds the checkpoint, signed by a trusted trainer key as that epoch of this
   * run; else from scratch, with the reason.
   */
  private Start startOf(RunSpec spec, TrainingEvent.Epoch resumeAfter) {
    if (resumeAfter == null) {
      return new Start(Training.Start.FRESH, null);
    }
    CheckpointReader.Found found =
        checkpoints.find(resumeAfter.modelVersion(), spec.runId(), resumeAfter.epoch());
    if (found.checkpoint() == null) {
      LOG.warnf(
          "Run %s: not resuming after epoch %d, starting from scratch: %s",
          spec.runId(), resumeAfter.epoch(), found.refused());
      return new Start(Training.Start.FRESH, found.refused());
    }
    return new Start(
        new Training.Start(resumeAfter.epoch(), found.checkpoint().parameters()), null);
  }

  /** Where a run starts, and why it does not resume when it was cut short (null otherwise). */
  private record Start(Training.Start from, String resumeRefused) {}

  private static void flush(RunOutbox outbox) {
    try {
      outbox.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancellationException("trainer stopping");
    }
  }

  /** The run this trainer trains now: its newest trained epoch and how many wait for Kafka. */
  public record Progress(String runId, int trainedEpoch, int waitingForKafka) {}

  public Optional<Progress> progress() {
    Current c = current;
    return c == null
        ? Optional.empty()
        : Optional.of(new Progress(c.runId(), trainedEpoch, c.outbox().waiting()));
  }

  private record Current(String runId, RunOutbox outbox) {}

  private static void checkStop(Supplier<RunQueue.Stop> stop, int epochsDone) {
    switch (stop.get()) {
      case CANCEL -> throw new RunCancelled(epochsDone);
      case HAND_OVER -> throw new RunHandedOver(epochsDone);
      case NONE -> {}
    }
  }

  /** Thrown from the epoch listener to stop a run handed over to another trainer. */
  private static final class RunHandedOver extends RuntimeException {
    final int epochsDone;

    RunHandedOver(int epochsDone) {
      super("handed over", null, false, false);
      this.epochsDone = epochsDone;
    }
  }

  /** Thrown from the epoch listener to stop a cancelled run before the epoch's checkpoint. */
  private static final class RunCancelled extends RuntimeException {
    final int epochsDone;

    RunCancelled(int epochsDone) {
      super("cancelled", null, false, false);
      this.epochsDone = epochsDone;
    }
  }

  static String describe(RunSpec s) {
    return String.format(
        "epochs=%d batchSize=%d optimizer=%s learningRate=%s schedule=%s seed=%d augmentation=%s"
            + " warmUpEpochs=%s labelSmoothing=%s emaDecay=%s weightDecay=%s"
            + " batchNormImages=%d%s",
        s.epochs(),
        s.batchSize(),
        s.optimizer(),
        s.learningRate(),
        s.schedule(),
        s.seed(),
        s.augmentation(),
        s.recipe().warmUpEpochs(),
        s.recipe().labelSmoothing(),
        s.recipe().emaDecay(),
        s.recipe().weightDecay(),
        s.recipe().batchNormImages(),
        s.feedbackShare() != null ? " feedbackShare=" + s.feedbackShare() : "");
  }
}
