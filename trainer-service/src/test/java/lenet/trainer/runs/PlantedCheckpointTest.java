package lenet.trainer.runs;

import static lenet.trainer.runs.TrainerServiceTest.TOPICS;
import static lenet.trainer.runs.TrainerServiceTest.checkpoints;
import static lenet.trainer.runs.TrainerServiceTest.events;
import static lenet.trainer.runs.TrainerServiceTest.producer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import lenet.contract.topics.Topic;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.SigningKeys;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.SharedKafkaResource;
import lenet.model.LeNet5;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The planted-checkpoint attack: a Kafka writer forges a run's STARTED and EPOCH events pointing at
 * a checkpoint of its own making, then sends that run's command, so that the trainer "resumes" from
 * the planted parameters and publishes them signed with its own key. The trainer resumes only from
 * a checkpoint signed by its own key as that epoch of that run: here it starts from scratch, says
 * why in its STARTED event, and none of what it publishes carries the planted parameters.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class PlantedCheckpointTest {

  @BeforeAll
  static void dataset() throws Exception {
    TrainerServiceTest.publishSmallDataset();
  }

  @Test
  void aRunNeverResumesFromAnUnsignedOrForeignCheckpoint() throws Exception {
    String tag = Long.toString(System.nanoTime(), 36);
    // Real trained parameters (a one-epoch run's), as an attacker would take from the topic.
    String source = "source-" + tag;
    send(source, "{\"runId\": \"" + source + "\", \"epochs\": 1}");
    awaitEnd(source);
    byte[] planted =
        checkpoints().stream()
            .filter(c -> source.equals(c.header().runId()))
            .findFirst()
            .orElseThrow()
            .parameters();

    KeyPair stranger = SigningKeys.generate();
    for (KeyPair signer : new KeyPair[] {null, stranger}) {
      String runId = (signer == null ? "unsigned-" : "foreign-") + tag;
      long version = 9_000_000_000L + System.nanoTime() % 1_000_000_000L;
      Checkpoint forged =
          new Checkpoint(
              Checkpoint.Header.lenet5(version)
                  .runId(runId)
                  .epoch(1, 2)
                  .parametersOf(planted)
                  .training(0.1, 0.97)
                  .dev(0.1, 0.97)
                  .build(),
              planted);
      byte[] value = forged.encode();
      Headers headers =
          signer == null ? new RecordHeaders() : CheckpointSignature.sign(value, signer);
      try (KafkaProducer<String, byte[]> p = producer()) {
        p.send(
                new ProducerRecord<>(
                    TOPICS.name(Topic.MODEL_CHECKPOINTS),
                    null,
                    Checkpoint.key(LeNet5.MODEL_NAME, version),
                    value,
                    headers))
            .get();
        publish(
            p,
            TrainingEvent.started(
                runId, 2, "cpu()", "epochs=2", new TrainingEvent.Data("trainer-test", null)));
        publish(
            p,
            TrainingEvent.epoch(
                runId,
                1,
                2,
                new TrainingEvent.EpochMetrics(0.1, 0.97, 0.1, 0.97, 1, 1000),
                version));
      }
      // The attack's command ran one epoch at a learning rate that is 0 as a float (refused,
      // below);
      // here the run could only train for real: it starts from scratch instead of from the plant.
      send(runId, "{\"runId\": \"" + runId + "\", \"epochs\": 2}");
      awaitEnd(runId);

      TrainingEvent.Started started = last(runId, TrainingEvent.Started.class);
      assertThat(started.resumedFrom()).as("not resumed").isNull();
      assertThat(started.resumeRefused())
          .as("STARTED says why")
          .contains("checkpoint v" + version)
          .contains(signer == null ? "is not signed" : "does not trust");
      List<Integer> epochsAfterStart =
          events().stream()
              .filter(e -> runId.equals(e.runId()) && e instanceof TrainingEvent.Epoch)
              .map(e -> ((TrainingEvent.Epoch) e).epoch())
              .toList();
      assertThat(epochsAfterStart)
          .as("the forged epoch 1, then 1 and 2 trained")
          .containsExactly(1, 1, 2);
      List<Checkpoint> published =
          checkpoints().stream()
              .filter(c -> runId.equals(c.header().runId()) && c.header().modelVersion() != version)
              .toList();
      assertThat(published).hasSize(2);
      assertThat(published)
          .as("no published checkpoint carries the planted parameters")
          .allSatisfy(c -> assertThat(c.parameters()).isNotEqualTo(planted));
    }
  }

  @Test
  void aLearningRateThatIsZeroOrSubnormalAsAFloatIsRefused() throws Exception {
    String tag = Long.toString(System.nanoTime(), 36);
    for (String rate : List.of("1e-300", "1e-40", "1e-10")) {
      String runId = "tiny-lr-" + rate.replace("-", "") + "-" + tag;
      send(runId, "{\"runId\": \"" + runId + "\", \"epochs\": 2, \"learningRate\": " + rate + "}");
      await("the learning rate " + rate + " is refused")
          .atMost(Duration.ofSeconds(30))
          .until(() -> types(runId).contains(TrainingEvent.Type.FAILED));
      assertThat(types(runId)).containsExactly(TrainingEvent.Type.FAILED);
      assertThat(last(runId, TrainingEvent.Failed.class).message())
          .contains("'learningRate' must be in [1.0E-9, 10]");
    }
  }

  private static void awaitEnd(String runId) {
    await("run " + runId + " ends")
        .atMost(Duration.ofMinutes(2))
        .until(
            () ->
                types(runId).contains(TrainingEvent.Type.COMPLETED)
                    || types(runId).contains(TrainingEvent.Type.CANCELLED));
    assertThat(types(runId)).contains(TrainingEvent.Type.COMPLETED);
  }

  private static List<TrainingEvent.Type> types(String runId) {
    return events().stream().filter(e -> runId.equals(e.runId())).map(TrainingEvent::type).toList();
  }

  private static <T extends TrainingEvent> T last(String runId, Class<T> type) {
    List<T> all =
        events().stream()
            .filter(e -> runId.equals(e.runId()) && type.isInstance(e))
            .map(type::cast)
            .toList();
    assertThat(all).as(type.getSimpleName() + " of " + runId).isNotEmpty();
    return all.get(all.size() - 1);
  }

  private static void publish(KafkaProducer<String, byte[]> p, TrainingEvent event)
      throws Exception {
    p.send(new ProducerRecord<>(TOPICS.name(Topic.TRAINING_EVENTS), event.runId(), event.encode()))
        .get();
  }

  private static void send(String key, String json) throws Exception {
    try (KafkaProducer<String, byte[]> p = producer()) {
      p.send(
              new ProducerRecord<>(
                  TOPICS.name(Topic.TRAINING_COMMANDS), key, json.getBytes(StandardCharsets.UTF_8)))
          .get();
    }
  }
}
