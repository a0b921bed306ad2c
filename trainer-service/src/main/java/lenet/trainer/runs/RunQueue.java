package lenet.trainer.runs;

import io.opentelemetry.context.Context;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntConsumer;
import lenet.contract.wire.TrainingEvent;
import lenet.trainer.training.RunSpec;

/**
 * The valid commands waiting to run, in arrival order, and the one running. Commands are accepted
 * (and bad ones refused) as they arrive, while a run is active; the runner takes one at a time.
 * Each item carries what to do when it is over (acknowledge its command record), which is not done
 * for a run cut by the trainer stopping, so that it runs again after a restart.
 */
final class RunQueue {

  /**
   * A command waiting or running; {@code resumeAfter} is its run's last published epoch when it was
   * cut short before (null: a first start); {@code done} acknowledges its record; {@code trace} is
   * the trace its record came in (root when none), which its run continues.
   */
  record Item(RunSpec spec, TrainingEvent.Epoch resumeAfter, Runnable done, Context trace) {
    Item(RunSpec spec, TrainingEvent.Epoch resumeAfter, Runnable done) {
      this(spec, resumeAfter, done, Context.root());
    }

    String runId() {
      return spec.runId();
    }
  }

  /** What a cancel found. */
  enum Cancelled {
    /** It was waiting: removed, it never starts. */
    WAITING,
    /** It runs: it stops at the end of the current epoch. */
    RUNNING,
    /** No such run waits or runs (unknown, or over). */
    UNKNOWN
  }

  /** What the running run is asked to do at its next epoch's end. */
  enum Stop {
    NONE,
    /** Stop with a CANCELLED event: the run is over. */
    CANCEL,
    /**
     * Stop without an event and without acknowledging its command: this trainer lost the command
     * partition in a rebalance, and the trainer that has it now runs the command again.
     */
    HAND_OVER
  }

  private final Map<String, Item> waiting = new LinkedHashMap<>();
  private Item running;
  private Stop stop = Stop.NONE;

  /**
   * Adds a command at the end; {@code announce} is told its position (1 = next) before the runner
   * can take it, so its QUEUED event precedes its STARTED.
   *
   * @return false when a run with this id already waits or runs (the command is a duplicate); a run
   *     handing over does not count
   */
  synchronized boolean submit(Item item, IntConsumer announce) {
    // A run handing over (this trainer lost the partition) is not a duplicate: when the partition
    // comes back here, its command, delivered again, must wait and run once the hand-over is done.
    boolean runs =
        running != null && running.runId().equals(item.runId()) && stop != Stop.HAND_OVER;
    if (waiting.containsKey(item.runId()) || runs) {
      return false;
    }
    announce.accept(waiting.size() + 1);
    waiting.put(item.runId(), item);
    notifyAll();
    return true;
  }

  /** Waits for the next command and marks it running. */
  synchronized Item take() throws InterruptedException {
    while (waiting.isEmpty()) {
      wait();
    }
    String first = waiting.keySet().iterator().next();
    running = waiting.remove(first);
    stop = Stop.NONE;
    return running;
  }

  synchronized void finished(Item item) {
    if (running == item) {
      running = null;
    }
  }

  /**
   * Cancels {@code runId}: a waiting one is removed and returned (acknowledge it), a running one is
   * flagged.
   */
  synchronized Cancelled cancel(String runId, List<Item> removed) {
    Item w = waiting.remove(runId);
    if (w != null) {
      removed.add(w);
      return Cancelled.WAITING;
    }
    if (running != null && running.runId().equals(runId)) {
      if (stop == Stop.NONE) {
        stop = Stop.CANCEL;
      }
      return Cancelled.RUNNING;
    }
    return Cancelled.UNKNOWN;
  }

  /** What the run {@code runId}, running now, is asked to do. */
  synchronized Stop stopRequested(String runId) {
    return running != null && running.runId().equals(runId) ? stop : Stop.NONE;
  }

  /**
   * This trainer no longer owns the commands: the waiting ones are dropped unacknowledged (their
   * new owner receives them) and the running one is asked to hand over.
   *
   * @return the run ids dropped or handed over
   */
  synchronized List<String> handOver() {
    List<String> ids = new ArrayList<>(waiting.keySet());
    waiting.clear();
    if (running != null) {
      stop = Stop.HAND_OVER;
      ids.add(running.runId());
    }
    return ids;
  }

  /** Run ids waiting, next first. */
  synchronized List<String> waitingIds() {
    return new ArrayList<>(waiting.keySet());
  }

  synchronized Optional<String> runningId() {
    return Optional.ofNullable(running).map(Item::runId);
  }
}
