package lenet.trainer.runs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import lenet.trainer.training.Augmentation;
import lenet.trainer.training.RunSpec;
import org.junit.jupiter.api.Test;

/** The queue's rules: positions, duplicates, cancel, and the hand-over after a rebalance. */
class RunQueueTest {

  @Test
  void positionsDuplicatesAndCancel() throws Exception {
    RunQueue q = new RunQueue();
    List<Integer> positions = new ArrayList<>();
    assertThat(q.submit(item("a"), positions::add)).isTrue();
    assertThat(q.submit(item("b"), positions::add)).isTrue();
    assertThat(q.submit(item("a"), positions::add)).as("a duplicate").isFalse();
    assertThat(positions).containsExactly(1, 2);
    RunQueue.Item a = q.take();
    assertThat(a.runId()).isEqualTo("a");
    assertThat(q.submit(item("a"), positions::add)).as("a runs").isFalse();
    List<RunQueue.Item> removed = new ArrayList<>();
    assertThat(q.cancel("b", removed)).isEqualTo(RunQueue.Cancelled.WAITING);
    assertThat(removed).extracting(RunQueue.Item::runId).containsExactly("b");
    assertThat(q.cancel("a", removed)).isEqualTo(RunQueue.Cancelled.RUNNING);
    assertThat(q.stopRequested("a")).isEqualTo(RunQueue.Stop.CANCEL);
    assertThat(q.cancel("zzz", removed)).isEqualTo(RunQueue.Cancelled.UNKNOWN);
  }

  @Test
  void aHandOverDropsTheWaitingAndLetsTheRunningOnesCommandQueueAgain() throws Exception {
    RunQueue q = new RunQueue();
    AtomicInteger acks = new AtomicInteger();
    q.submit(new RunQueue.Item(spec("a"), null, acks::incrementAndGet), p -> {});
    q.submit(new RunQueue.Item(spec("b"), null, acks::incrementAndGet), p -> {});
    RunQueue.Item a = q.take();
    assertThat(q.handOver()).containsExactly("b", "a");
    assertThat(q.waitingIds()).isEmpty();
    assertThat(q.stopRequested("a")).isEqualTo(RunQueue.Stop.HAND_OVER);
    assertThat(acks).as("nothing acknowledged: the new owner runs them").hasValue(0);
    // The partition comes back before a's epoch ends: its command waits for the hand-over.
    assertThat(q.submit(item("a"), p -> {})).isTrue();
    q.finished(a);
    assertThat(q.take().runId()).isEqualTo("a");
  }

  private static RunQueue.Item item(String runId) {
    return new RunQueue.Item(spec(runId), null, () -> {});
  }

  private static RunSpec spec(String runId) {
    return new RunSpec(
        runId, 1, 64, 0.001, "adam", 42, "constant", new Augmentation(0, 0, 0), null);
  }
}
