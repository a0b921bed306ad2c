package lenet.trainer.runs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import lenet.contract.topics.Topic;
import lenet.contract.wire.TrainingCommand;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.SharedKafkaResource;
import lenet.trainer.TrainerConfig;
import lenet.trainer.feedback.FeedbackReader;
import lenet.trainer.kafka.CheckpointReader;
import lenet.trainer.kafka.DatasetSource;
import lenet.trainer.kafka.TrainingPublisher;
import lenet.trainer.training.RunSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link RunService} decides about one run, with the service's real publisher, dataset source
 * and checkpoint reader on the shared broker and real training on a small MNIST copy: a run
 * cancelled before it starts ends CANCELLED without starting, one handed over ends without any
 * event and unacknowledged, one cancelled after an epoch never publishes the epoch the cancel cut
 * (so it never has a candidate) and writes nothing to model.control, and one cut short resumes
 * after its last epoch only from a checkpoint Kafka still holds, else starts from scratch and says
 * why.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class RunServiceTest {

  @Inject TrainerConfig config;
  @Inject DatasetSource datasets;
  @Inject TrainingPublisher publisher;
  @Inject CheckpointReader checkpoints;
  @Inject FeedbackReader feedback;

  private final String tag = Long.toString(System.nanoTime(), 36);
  private RunService service;

  @BeforeAll
  static void dataset() throws Exception {
    TrainerServiceTest.publishSmallDataset();
  }

  @BeforeEach
  void newService() {
    service =
        new RunService(
            config,
            datasets,
            publisher,
            checkpoints,
            feedback,
            new SimpleMeterRegistry(),
            io.opentelemetry.api.OpenTelemetry.noop());
  }

  @Test
  void aRunCancelledBeforeItStartsEndsCancelledWithoutStarting() {
    String runId = "cancelled-first-" + tag;
    assertThat(service.run(spec(runId, 2), null, () -> RunQueue.Stop.CANCEL)).isTrue();
    assertThat(events(runId))
        .extracting(TrainingEvent::type)
        .containsExactly(TrainingEvent.Type.CANCELLED);
    assertThat(((TrainingEvent.Cancelled) events(runId).get(0)).epoch()).isZero();
  }

  @Test
  void aRunHandedOverEndsWithoutAnEventAndIsNotToBeAcknowledged() {
    String runId = "handed-over-" + tag;
    assertThat(service.run(spec(runId, 2), null, () -> RunQueue.Stop.HAND_OVER)).isFalse();
    assertThat(events(runId)).isEmpty();
  }

  @Test
  void aRunCancelledAfterAnEpochPublishesNoFurtherCheckpointAndResumesOnlyFromOne() {
    // Asked before the start, then after each epoch: the cancel comes after epoch 1's.
    String runId = "cut-" + tag;
    assertThat(service.run(spec(runId, 3), null, stopOnCall(3))).isTrue();
    List<TrainingEvent> run = events(runId);
    assertThat(run)
        .extracting(TrainingEvent::type)
        .containsExactly(
            TrainingEvent.Type.STARTED, TrainingEvent.Type.EPOCH, TrainingEvent.Type.CANCELLED);
    TrainingEvent.Epoch epoch1 = (TrainingEvent.Epoch) run.get(1);
    assertThat(((TrainingEvent.Cancelled) run.get(2)).epoch()).isEqualTo(1);
    assertThat(TrainerServiceTest.checkpoints())
        .filteredOn(c -> runId.equals(c.header().runId()))
        .as("epoch 1's checkpoint only: not the epoch the cancel cut, so no final epoch")
        .extracting(c -> c.header().modelVersion(), c -> c.header().epoch())
        .containsExactly(tuple(epoch1.modelVersion(), 1));
    assertThat(TrainerServiceTest.readAll(TrainerServiceTest.TOPICS.name(Topic.MODEL_CONTROL)))
        .as("only the inference fleet writes model.control")
        .isEmpty();

    // The same run, as if cut short after epoch 1: it goes on from that checkpoint...
    String resumed = runId;
    assertThat(service.run(spec(resumed, 2), epoch1, () -> RunQueue.Stop.NONE)).isTrue();
    List<TrainingEvent> again = events(resumed).subList(3, events(resumed).size());
    assertThat(again)
        .extracting(TrainingEvent::type)
        .containsExactly(
            TrainingEvent.Type.STARTED, TrainingEvent.Type.EPOCH, TrainingEvent.Type.COMPLETED);
    TrainingEvent.Started started = (TrainingEvent.Started) again.get(0);
    assertThat(started.resumedFrom()).isEqualTo(1);
    assertThat(started.resumeRefused()).isNull();
    assertThat(((TrainingEvent.Epoch) again.get(1)).epoch()).as("only epoch 2 trains").isEqualTo(2);

    // ...but not from a version Kafka does not hold: from scratch, saying why.
    String missing = "missing-" + tag;
    TrainingEvent.Epoch gone =
        new TrainingEvent.Epoch(
            missing, 1, 1, 0.3, 0.9, 0.3, 0.9, null, null, null, 1, 1000, 1L << 60, 0);
    assertThat(service.run(spec(missing, 1), gone, () -> RunQueue.Stop.NONE)).isTrue();
    List<TrainingEvent> fresh = events(missing);
    assertThat(fresh)
        .extracting(TrainingEvent::type)
        .containsExactly(
            TrainingEvent.Type.STARTED, TrainingEvent.Type.EPOCH, TrainingEvent.Type.COMPLETED);
    TrainingEvent.Started freshStart = (TrainingEvent.Started) fresh.get(0);
    assertThat(freshStart.resumedFrom()).isNull();
    assertThat(freshStart.resumeRefused()).isNotBlank();
    assertThat(((TrainingEvent.Epoch) fresh.get(1)).epoch()).isEqualTo(1);
  }

  /** NONE until the {@code n}th time it is asked, then CANCEL. */
  private static Supplier<RunQueue.Stop> stopOnCall(int n) {
    AtomicInteger calls = new AtomicInteger();
    return () -> calls.incrementAndGet() >= n ? RunQueue.Stop.CANCEL : RunQueue.Stop.NONE;
  }

  private RunSpec spec(String runId, int epochs) {
    return RunSpec.of(runId, new TrainingCommand(runId, epochs, 256, null, null, 1L, null), config);
  }

  private static List<TrainingEvent> events(String runId) {
    return TrainerServiceTest.events().stream().filter(e -> runId.equals(e.runId())).toList();
  }
}
