package lenet.trainer.runs;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.WireFormatException;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * The runs and their per-epoch history, as a projection of {@code training.events}: read from the
 * beginning at start, so the history survives trainer restarts and every replica of the page agrees
 * with the topic.
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
  }

  private final Map<String, Run> runs = new ConcurrentHashMap<>();
  private final List<Consumer<TrainingEvent>> listeners = new CopyOnWriteArrayList<>();

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

  void apply(TrainingEvent e) {
    if (e.runId() == null) {
      return;
    }
    runs.compute(e.runId(), (id, run) -> next(run, e));
  }

  /**
   * The run after event {@code e}; a run seen first mid-way (e.g. its STARTED was before a restart)
   * is created.
   */
  private static Run next(Run run, TrainingEvent e) {
    Run r = run == null ? begun(e, "RUNNING") : run;
    return switch (e.type()) {
      case QUEUED -> begun(e, "QUEUED");
      case STARTED -> begun(e, "RUNNING");
      case EPOCH -> {
        List<EpochRow> rows = new ArrayList<>(r.history());
        rows.removeIf(row -> row.epoch() >= e.epoch());
        rows.add(
            new EpochRow(
                e.epoch(),
                e.loss(),
                e.accuracy(),
                e.devLoss(),
                e.devAccuracy(),
                e.seconds(),
                e.imagesPerSecond(),
                e.modelVersion()));
        yield r.with("RUNNING", null, List.copyOf(rows), null, null, e.modelVersion(), null);
      }
      case COMPLETED ->
          r.with(
              "COMPLETED",
              e.timestamp(),
              r.history(),
              e.testLoss(),
              e.testAccuracy(),
              e.modelVersion(),
              null);
      case FAILED ->
          r.with("FAILED", e.timestamp(), r.history(), null, null, r.modelVersion(), e.message());
      case CANCELLED ->
          r.with(
              "CANCELLED", e.timestamp(), r.history(), null, null, r.modelVersion(), e.message());
    };
  }

  /** A run as its QUEUED or STARTED event (or the first event seen of it) begins it. */
  private static Run begun(TrainingEvent e, String state) {
    boolean begins =
        e.type() == TrainingEvent.Type.STARTED || e.type() == TrainingEvent.Type.QUEUED;
    return new Run(
        e.runId(),
        state,
        e.epochs(),
        e.device(),
        begins ? e.message() : null,
        e.timestamp(),
        null,
        List.of(),
        null,
        null,
        null,
        null,
        e.position());
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
