package lenet.trainer.runs;

import ai.djl.Device;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import lenet.contract.wire.TrainingEvent;
import lenet.trainer.TrainerConfig;
import lenet.trainer.kafka.DatasetSource;
import lenet.trainer.kafka.TrainingPublisher;
import lenet.trainer.training.RunSpec;
import lenet.trainer.training.Training;
import lenet.trainer.training.TrainingData;
import org.jboss.logging.Logger;

/**
 * Runs one accepted command end to end: read the dataset, train, publish events and checkpoints.
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

  RunService(
      TrainerConfig config,
      DatasetSource datasets,
      TrainingPublisher publisher,
      MeterRegistry registry) {
    this.config = config;
    this.datasets = datasets;
    this.publisher = publisher;
    this.completed = Counter.builder("trainer.runs").tag("outcome", "completed").register(registry);
    this.failed = Counter.builder("trainer.runs").tag("outcome", "failed").register(registry);
    this.cancelled = Counter.builder("trainer.runs").tag("outcome", "cancelled").register(registry);
    registry.more().counter("trainer.epochs", java.util.List.of(), epochsDone);
  }

  /**
   * Runs one accepted command to its end. Returns normally once the run has ended, well or badly (a
   * COMPLETED, FAILED or CANCELLED event says how); throws {@link CancellationException} when the
   * trainer is stopping, so the command is not acknowledged and runs again after a restart.
   *
   * @param stop asked before each epoch's checkpoint is published: CANCEL stops the run there with
   *     a CANCELLED event, HAND_OVER without any (the epoch's checkpoint is not published either
   *     way)
   * @return false when the run was handed over (its command must not be acknowledged)
   */
  boolean run(RunSpec spec, Supplier<RunQueue.Stop> stop) {
    String runId = spec.runId();
    try {
      Device device = Training.device(config.device());
      LOG.infof(
          "Run %s: %d epochs, batch %d, %s lr %.2g (%s), seed %d, on %s",
          runId,
          spec.epochs(),
          spec.batchSize(),
          spec.optimizer(),
          spec.learningRate(),
          spec.schedule(),
          spec.seed(),
          device);
      checkStop(stop, 0);
      publisher.event(
          TrainingEvent.started(runId, spec.epochs(), device.toString(), describe(spec)));
      TrainingData data = datasets.load(config.datasetWait());
      long[] lastVersion = {0};
      long t0 = System.nanoTime();
      Training.Result result =
          Training.run(
              spec,
              data,
              device,
              (epoch, m, test, parameters) -> {
                checkStop(stop, epoch - 1);
                long v =
                    publisher.checkpoint(spec.runId(), epoch, spec.epochs(), m, test, parameters);
                lastVersion[0] = v;
                publisher.event(TrainingEvent.epoch(spec.runId(), epoch, spec.epochs(), m, v));
                epochsDone.incrementAndGet();
                double elapsed = (System.nanoTime() - t0) / 1e9;
                LOG.infof(
                    "Run %s epoch %d/%d: loss %.4f acc %.4f, dev loss %.4f acc %.4f, %.1f s (%.0f img/s),"
                        + " model v%d, about %.0f s left",
                    spec.runId(),
                    epoch,
                    spec.epochs(),
                    m.loss(),
                    m.accuracy(),
                    m.devLoss(),
                    m.devAccuracy(),
                    m.seconds(),
                    m.imagesPerSecond(),
                    v,
                    elapsed / epoch * (spec.epochs() - epoch));
              });
      publisher.event(
          TrainingEvent.completed(
              runId,
              spec.epochs(),
              result.test().loss(),
              result.test().accuracy(),
              lastVersion[0],
              result.seconds()));
      completed.increment();
      LOG.infof(
          "Run %s completed: test accuracy %.4f, loss %.4f, model v%d, %.0f s",
          runId, result.test().accuracy(), result.test().loss(), lastVersion[0], result.seconds());
    } catch (RunHandedOver e) {
      LOG.infof(
          "Run %s handed over after %d epochs: another trainer has its command now",
          runId, e.epochsDone);
      return false;
    } catch (RunCancelled e) {
      cancelled.increment();
      LOG.infof("Run %s cancelled after %d epochs", runId, e.epochsDone);
      publisher.event(
          TrainingEvent.cancelled(
              runId,
              e.epochsDone,
              "cancelled after " + e.epochsDone + " of " + spec.epochs() + " epochs"));
    } catch (RuntimeException e) {
      if (Thread.currentThread().isInterrupted()) {
        LOG.warnf("Run %s stopped with the trainer; its command will run again on restart", runId);
        throw new CancellationException("trainer stopping");
      }
      failed.increment();
      LOG.errorf(e, "Run %s failed: %s", runId, e.getMessage());
      publisher.event(TrainingEvent.failed(runId, String.valueOf(e.getMessage())));
    }
    return true;
  }

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
        "epochs=%d batchSize=%d optimizer=%s learningRate=%s schedule=%s seed=%d augmentation=%s",
        s.epochs(),
        s.batchSize(),
        s.optimizer(),
        s.learningRate(),
        s.schedule(),
        s.seed(),
        s.augmentation());
  }
}
