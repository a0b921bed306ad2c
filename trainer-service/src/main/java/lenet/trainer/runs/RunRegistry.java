package lenet.trainer.runs;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.WireFormatException;
import lenet.trainer.TrainerConfig;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * The runs and their per-epoch history, as a projection of {@code training.events}: read from the
 * beginning at start, so the history survives trainer restarts and every replica of the page agrees
 * with the topic. Bounded: queued and running runs are always kept, finished ones only the {@code
 * trainer.runs.keep} newest (every bad command is a FAILED run of its own).
 */
@ApplicationScoped
public class RunRegistry {

  private static final Logger LOG = Logger.getLogger(RunRegistry.class);

  /** One row of the tutorial's history table. */
  public record EpochRow(
      int epoch,
      double loss,
      double accuracy,
      double devLoss,
      double devAccuracy,
      double seconds,
      double imagesPerSecond,
      long modelVersion) {}

  /** A run as the events tell it. */
  public record Run(
      String runId,
      String state,
      Integer epochs,
      String device,
      String settings,
      long startedAt,
      Long finishedAt,
      List<EpochRow> history,
      Double testLoss,
      Double testAccuracy,
      Long modelVersion,
      String message,
      Integer position) {

    Run with(
        String state,
        Long finishedAt,
        List<EpochRow> history,
        Double testLoss,
        Double testAccuracy,
        Long modelVersion,
        String message) {
      return new Run(
          runId,
          state,
          epochs,
          device,
          settings,
          startedAt,
          finishedAt,
          history,
          testLoss,
          testAccuracy,
          modelVersion,
          message,
          null);
    }

    /** Whether the run is over (COMPLETED, FAILED or CANCELLED): only those ever set finishedAt. */
    boolean over() {
      return finishedAt != null;
    }
  }

  private final int keep;
  private final Map<String, Run> runs = new ConcurrentHashMap<>();

  /** The runs that are over, the oldest end first: the first to go past {@code keep}. */
  private final NavigableSet<Run> over =
      new TreeSet<>(Comparator.comparingLong(Run::finishedAt).thenComparing(Run::runId));

  private final List<Consumer<TrainingEvent>> listeners = new CopyOnWriteArrayList<>();

  RunRegistry(TrainerConfig config) {
    this.keep = config.runsKeep();
  }

  @Incoming("training-history")
  public void onEvent(byte[] payload) {
    TrainingEvent e;
    try {
      e = TrainingEvent.decode(payload);
    } catch (WireFormatException ex) {
      LOG.warnf("Ignoring an unreadable record on the events topic: %s", ex.describe());
      return;
    }
    apply(e);
    listeners.forEach(l -> l.accept(e));
  }

  /** Adds a listener told of every event after it is applied (the live page uses it). */
  public void subscribe(Consumer<TrainingEvent> listener) {
    listeners.add(listener);
  }

  public void unsubscribe(Consumer<TrainingEvent> listener) {
    listeners.remove(listener);
  }

  /** Applies one event; one writer at a time (readers see the map without waiting). */
  synchronized void apply(TrainingEvent e) {
    if (e.runId() == null) {
      return;
    }
    Run before = runs.get(e.runId());
    Run after = next(before, e);
    runs.put(e.runId(), after);
    if (before != null && before.over()) {
      over.remove(before);
    }
    if (after.over()) {
      over.add(after);
    }
    while (over.size() > keep) {
      runs.remove(over.pollFirst().runId());
    }
  }

  /**
   * The run after event {@code e}; a run seen first mid-way (e.g. its STARTED was before a restart)
   * is created.
   */
  private static Run next(Run run, TrainingEvent e) {
    Run r = run == null ? begun(e, "RUNNING", epochsOf(e), null, null, null) : run;
    return switch (e.type()) {
      case QUEUED -> {
        TrainingEvent.Queued q = (TrainingEvent.Queued) e;
        yield begun(e, "QUEUED", q.epochs(), null, q.message(), q.position());
      }
      case STARTED -> {
        TrainingEvent.Started s = (TrainingEvent.Started) e;
        // A run started again from its checkpoint keeps the epochs it already has.
        Run started = begun(e, "RUNNING", s.epochs(), s.device(), s.message(), null);
        yield s.resumedFrom() == null || run == null
            ? started
            : started.with(
                "RUNNING",
                null,
                List.copyOf(
                    r.history().stream().filter(row -> row.epoch() <= s.resumedFrom()).toList()),
                null,
                null,
                r.modelVersion(),
                null);
      }
      case EPOCH -> {
        TrainingEvent.Epoch ep = (TrainingEvent.Epoch) e;
        List<EpochRow> rows = new ArrayList<>(r.history());
        rows.removeIf(row -> row.epoch() >= ep.epoch());
        rows.add(
            new EpochRow(
                ep.epoch(),
                ep.loss(),
                ep.accuracy(),
                ep.devLoss(),
                ep.devAccuracy(),
                ep.seconds(),
                ep.imagesPerSecond(),
                ep.modelVersion()));
        yield r.with("RUNNING", null, List.copyOf(rows), null, null, ep.modelVersion(), null);
      }
      case COMPLETED -> {
        TrainingEvent.Completed c = (TrainingEvent.Completed) e;
        yield r.with(
            "COMPLETED",
            c.timestamp(),
            r.history(),
            c.testLoss(),
            c.testAccuracy(),
            c.modelVersion(),
            null);
      }
      case FAILED ->
          r.with(
              "FAILED",
              e.timestamp(),
              r.history(),
              null,
              null,
              r.modelVersion(),
              ((TrainingEvent.Failed) e).message());
      case CANCELLED ->
          r.with(
              "CANCELLED",
              e.timestamp(),
              r.history(),
              null,
              null,
              r.modelVersion(),
              ((TrainingEvent.Cancelled) e).message());
    };
  }

  /** The run's epoch count, where the event says it. */
  private static Integer epochsOf(TrainingEvent e) {
    return switch (e.type()) {
      case QUEUED -> ((TrainingEvent.Queued) e).epochs();
      case STARTED -> ((TrainingEvent.Started) e).epochs();
      case EPOCH -> ((TrainingEvent.Epoch) e).epochs();
      case COMPLETED -> ((TrainingEvent.Completed) e).epochs();
      case FAILED, CANCELLED -> null;
    };
  }

  /** A run as its QUEUED or STARTED event (or the first event seen of it) begins it. */
  private static Run begun(
      TrainingEvent e,
      String state,
      Integer epochs,
      String device,
      String settings,
      Integer position) {
    return new Run(
        e.runId(),
        state,
        epochs,
        device,
        settings,
        e.timestamp(),
        null,
        List.of(),
        null,
        null,
        null,
        null,
        position);
  }

  /** Newest first. */
  public List<Run> all() {
    return runs.values().stream()
        .sorted((a, b) -> Long.compare(b.startedAt(), a.startedAt()))
        .toList();
  }

  public Optional<Run> get(String runId) {
    return Optional.ofNullable(runs.get(runId));
  }
}
