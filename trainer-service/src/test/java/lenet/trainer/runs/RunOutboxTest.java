package lenet.trainer.runs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.TrainingEvent.EpochMetrics;
import lenet.kafka.SharedKafkaResource;
import lenet.trainer.kafka.TrainingPublisher;
import lenet.trainer.training.Evaluation;
import org.junit.jupiter.api.Test;

/**
 * What {@link RunOutbox} writes and when, through the service's real publisher to the shared
 * broker: a run's publications in the order given (each epoch's checkpoint before its EPOCH event),
 * the end naming the last published version (or the one a resumed run went on from), all of it on
 * Kafka once {@code flush} returns; training waits while {@code capacity} epochs wait for the
 * broker; and what was not written when the outbox closes is dropped.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class RunOutboxTest {

  private static final EpochMetrics METRICS = new EpochMetrics(0.3, 0.9, 0.35, 0.88, 1.0, 1000);
  private static final byte[] PARAMETERS = {1, 2, 3, 4};

  @Inject TrainingPublisher publisher;

  private final String tag = Long.toString(System.nanoTime(), 36);

  @Test
  void publishesInOrderAndTheEndNamesTheLastPublishedVersion() throws Exception {
    String runId = "ordered-" + tag;
    try (RunOutbox outbox = new RunOutbox(runId, publisher, 2)) {
      outbox.event(
          TrainingEvent.started(
              runId, 2, "cpu()", "epochs=2", new TrainingEvent.Data("trainer-test", null)));
      outbox.epoch(1, 2, METRICS, null, PARAMETERS);
      outbox.epoch(2, 2, METRICS, new Evaluation(0.3, 0.91), PARAMETERS);
      outbox.end(v -> TrainingEvent.completed(runId, 2, 0.3, 0.91, null, null, v, 2.0));
      outbox.flush();
      assertThat(outbox.waiting()).isZero();
    }
    // No waiting: flush returned, so everything is on Kafka.
    List<TrainingEvent> events = events(runId);
    assertThat(events)
        .extracting(TrainingEvent::type)
        .containsExactly(
            TrainingEvent.Type.STARTED,
            TrainingEvent.Type.EPOCH,
            TrainingEvent.Type.EPOCH,
            TrainingEvent.Type.COMPLETED);
    long v1 = ((TrainingEvent.Epoch) events.get(1)).modelVersion();
    long v2 = ((TrainingEvent.Epoch) events.get(2)).modelVersion();
    assertThat(v2).isGreaterThan(v1);
    assertThat(((TrainingEvent.Completed) events.get(3)).modelVersion()).isEqualTo(v2);
    List<Checkpoint> checkpoints =
        TrainerServiceTest.checkpoints().stream()
            .filter(c -> runId.equals(c.header().runId()))
            .toList();
    assertThat(checkpoints)
        .extracting(c -> c.header().modelVersion(), c -> c.header().epoch())
        .containsExactly(tuple(v1, 1), tuple(v2, 2));
  }

  @Test
  void aResumedRunEndsWithTheVersionItWentOnFromWhenItPublishedNoNewOne() throws Exception {
    String runId = "resumed-" + tag;
    try (RunOutbox outbox = new RunOutbox(runId, publisher, 2)) {
      outbox.resumedAt(4242);
      outbox.end(v -> TrainingEvent.completed(runId, 3, 0.3, 0.91, null, null, v, 2.0));
      outbox.flush();
    }
    assertThat(events(runId))
        .singleElement()
        .extracting(e -> ((TrainingEvent.Completed) e).modelVersion())
        .isEqualTo(4242L);
  }

  @Test
  void trainingWaitsWhileCapacityEpochsWaitForTheBroker() throws Exception {
    String runId = "full-" + tag;
    CountDownLatch broker = new CountDownLatch(1);
    try (RunOutbox outbox = new RunOutbox(runId, publisher, 2)) {
      // The writer is held (as by a broker that does not answer) until the latch opens.
      outbox.end(
          v -> {
            awaitQuietly(broker);
            return TrainingEvent.started(
                runId, 3, "cpu()", "epochs=3", new TrainingEvent.Data("trainer-test", null));
          });
      outbox.epoch(1, 3, METRICS, null, PARAMETERS);
      outbox.epoch(2, 3, METRICS, null, PARAMETERS);
      assertThat(outbox.waiting()).isEqualTo(2);
      Thread training =
          new Thread(
              () -> {
                try {
                  outbox.epoch(3, 3, METRICS, null, PARAMETERS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      training.start();
      await("training waits for room")
          .atMost(Duration.ofSeconds(5))
          .until(() -> training.getState() == Thread.State.WAITING);
      Thread.sleep(300);
      assertThat(training.isAlive()).as("the third epoch still waits").isTrue();

      broker.countDown();
      training.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(training.isAlive()).isFalse();
      outbox.flush();
    }
    assertThat(events(runId))
        .extracting(TrainingEvent::type)
        .containsExactly(
            TrainingEvent.Type.STARTED,
            TrainingEvent.Type.EPOCH,
            TrainingEvent.Type.EPOCH,
            TrainingEvent.Type.EPOCH);
  }

  @Test
  void whatWasNotWrittenWhenTheOutboxClosesIsDropped() throws Exception {
    String runId = "closed-" + tag;
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    RunOutbox outbox = new RunOutbox(runId, publisher, 2);
    outbox.end(
        v -> {
          held.countDown();
          awaitRegardless(release);
          throw new IllegalStateException("the trainer stops");
        });
    outbox.event(TrainingEvent.cancelled(runId, 0, "never written"));
    assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();

    outbox.close();
    release.countDown();
    Thread.sleep(1000); // time enough for the writer to publish it, were it not dropped
    assertThat(events(runId)).isEmpty();
  }

  /** Waits for {@code latch}, an interrupt (the outbox closing) notwithstanding. */
  private static void awaitRegardless(CountDownLatch latch) {
    while (latch.getCount() > 0) {
      try {
        latch.await();
      } catch (InterruptedException e) {
        // go on waiting: the test opens it
      }
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static List<TrainingEvent> events(String runId) {
    return TrainerServiceTest.events().stream().filter(e -> runId.equals(e.runId())).toList();
  }
}
