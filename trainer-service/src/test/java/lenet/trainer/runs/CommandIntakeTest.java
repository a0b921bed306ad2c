package lenet.trainer.runs;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.SharedKafkaResource;
import lenet.trainer.TrainerConfig;
import lenet.trainer.kafka.RunHistory;
import lenet.trainer.kafka.TrainingPublisher;
import lenet.trainer.training.NetworkSummary;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link CommandIntake} decides for each command record as it arrives, on the shared broker
 * with the service's real publisher and run history: a bad command is FAILED at once under the run
 * id its sender watches, a valid one is QUEUED with its position and acknowledged only when its run
 * is over, a duplicate and a cancel are acknowledged at once, a run that ended is not run again,
 * one cut short too often is given up, and a hand-over drops the waiting commands unacknowledged.
 * The intake here is its own, without its runner thread, so what it queued stays in its queue.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class CommandIntakeTest {

  @Inject TrainerConfig config;
  @Inject RunService runs;
  @Inject TrainingPublisher publisher;
  @Inject RunHistory history;
  @Inject RunLimits limits;
  @Inject NetworkSummary network;

  private final String tag = Long.toString(System.nanoTime(), 36);
  private CommandIntake intake;

  @BeforeEach
  void newIntake() {
    intake =
        new CommandIntake(
            config,
            runs,
            publisher,
            history,
            limits,
            network,
            new SimpleMeterRegistry(),
            io.opentelemetry.api.OpenTelemetry.noop());
  }

  @Test
  void aBadCommandIsFailedAtOnceUnderTheSendersRunIdElseTheKeyElseItsOffset() {
    long offset = System.nanoTime() % 1_000_000_000L;
    Ack given = accept("key-" + tag, "{\"runId\": \"given-" + tag + "\", \"epochs\": 0}", offset);
    Ack keyed = accept("key-" + tag, "not json", offset + 1);
    Ack placed = accept("not a valid id " + tag, "not json", offset + 2);
    Ack tooBig = accept("big-" + tag, "{\"batchSize\": 60000}", offset + 3);

    assertThat(List.of(given, keyed, placed, tooBig))
        .as("each acknowledged once, before accept returns")
        .allMatch(a -> a.count() == 1);
    assertThat(failure("given-" + tag)).contains("'epochs' must be in 1..1000, got 0");
    assertThat(failure("key-" + tag)).contains("MALFORMED_JSON");
    assertThat(failure("run-" + (offset + 2))).contains("MALFORMED_JSON");
    assertThat(failure("big-" + tag)).as("the run limits are asked").contains("needs about");
    assertThat(intake.waiting()).isEmpty();
  }

  @Test
  void aValidCommandIsQueuedWithItsPositionAndAcknowledgedOnlyWhenItsRunIsOver() {
    String first = "first-" + tag;
    String second = "second-" + tag;
    Ack firstAck = accept(first, command(first), 1);
    Ack secondAck = accept(second, command(second), 2);
    Ack duplicate = accept(first, command(first), 3);

    assertThat(intake.waiting()).containsExactly(first, second);
    assertThat(queued(first)).extracting(TrainingEvent.Queued::position).containsExactly(1);
    assertThat(queued(second)).extracting(TrainingEvent.Queued::position).containsExactly(2);
    assertThat(firstAck.count()).as("its run is not over").isZero();
    assertThat(secondAck.count()).isZero();
    assertThat(duplicate.count()).as("a duplicate is acknowledged at once").isEqualTo(1);
  }

  @Test
  void aCancelRemovesAWaitingRunWithACancelledEventAndAcknowledgesItsCommand() {
    String cancelled = "cancelled-" + tag;
    String kept = "kept-" + tag;
    Ack cancelledAck = accept(cancelled, command(cancelled), 1);
    accept(kept, command(kept), 2);

    Ack cancel = accept(cancelled, "{\"cancel\": \"" + cancelled + "\"}", 3);
    Ack unknown = accept("nobody", "{\"cancel\": \"nobody-" + tag + "\"}", 4);

    assertThat(intake.waiting()).containsExactly(kept);
    assertThat(cancelledAck.count()).as("its command is done with").isEqualTo(1);
    assertThat(cancel.count()).isEqualTo(1);
    assertThat(unknown.count()).isEqualTo(1);
    assertThat(types(cancelled))
        .containsExactly(TrainingEvent.Type.QUEUED, TrainingEvent.Type.CANCELLED);
    assertThat(types("nobody-" + tag)).as("nothing to say of an unknown run").isEmpty();
  }

  @Test
  void aRunThatEndedIsNotRunAgainAndOneStartedMaxAttemptsTimesIsGivenUp() {
    String done = "done-" + tag;
    publisher.event(TrainingEvent.completed(done, 1, 0.1, 0.9, null, null, 1, 1.0));
    String cut = "cut-" + tag;
    for (int i = 0; i < config.maxAttempts(); i++) {
      publisher.event(
          TrainingEvent.started(
              cut, 1, "cpu()", "epochs=1", new TrainingEvent.Data("trainer-test", null)));
    }
    String once = "once-" + tag;
    publisher.event(
        TrainingEvent.started(
            once, 1, "cpu()", "epochs=1", new TrainingEvent.Data("trainer-test", null)));

    Ack doneAck = accept(done, command(done), 1);
    Ack cutAck = accept(cut, command(cut), 2);
    Ack onceAck = accept(once, command(once), 3);

    assertThat(doneAck.count()).isEqualTo(1);
    assertThat(types(done)).as("not run again").containsExactly(TrainingEvent.Type.COMPLETED);
    assertThat(cutAck.count()).isEqualTo(1);
    assertThat(failure(cut)).contains("started " + config.maxAttempts() + " times");
    assertThat(onceAck.count()).as("cut short once: it runs again").isZero();
    assertThat(intake.waiting()).containsExactly(once);
  }

  @Test
  void aHandOverDropsTheWaitingCommandsUnacknowledged() {
    String a = "a-" + tag;
    String b = "b-" + tag;
    Ack aAck = accept(a, command(a), 1);
    Ack bAck = accept(b, command(b), 2);

    intake.handOver();

    assertThat(intake.waiting()).isEmpty();
    assertThat(aAck.count() + bAck.count())
        .as("another trainer receives them again and runs them")
        .isZero();
  }

  /** Counts how often a command record was acknowledged. */
  private static final class Ack implements Runnable {
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public void run() {
      count.incrementAndGet();
    }

    int count() {
      return count.get();
    }
  }

  private Ack accept(String key, String json, long offset) {
    Ack ack = new Ack();
    intake.accept(key, json.getBytes(StandardCharsets.UTF_8), offset, ack);
    return ack;
  }

  private static String command(String runId) {
    return "{\"runId\": \"" + runId + "\", \"epochs\": 1}";
  }

  private static List<TrainingEvent.Type> types(String runId) {
    return TrainerServiceTest.events().stream()
        .filter(e -> runId.equals(e.runId()))
        .map(TrainingEvent::type)
        .toList();
  }

  private static List<TrainingEvent.Queued> queued(String runId) {
    return TrainerServiceTest.events().stream()
        .filter(e -> runId.equals(e.runId()) && e instanceof TrainingEvent.Queued)
        .map(TrainingEvent.Queued.class::cast)
        .toList();
  }

  /** The message of the one FAILED event of {@code runId}. */
  private static String failure(String runId) {
    List<TrainingEvent.Failed> failed =
        TrainerServiceTest.events().stream()
            .filter(e -> runId.equals(e.runId()) && e instanceof TrainingEvent.Failed)
            .map(TrainingEvent.Failed.class::cast)
            .toList();
    assertThat(failed).as("FAILED events of " + runId).hasSize(1);
    return failed.get(0).message();
  }
}
