package lenet.trainer.runs;

import static io.restassured.RestAssured.given;
import static lenet.webtest.Operator.operator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import lenet.contract.dataset.DatasetWriter;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.SigningKeys;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.SharedKafka;
import lenet.kafka.SharedKafkaResource;
import lenet.mnist.MnistFiles;
import lenet.model.LeNet5;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import lenet.support.kafka.TopicReader;
import lenet.trainer.TrainerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The trainer end to end against a real broker with a small real MNIST subset on it: commands over
 * Kafka and HTTP become runs, events and signed checkpoints.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class TrainerServiceTest {

  static final Topics TOPICS = Topics.defaults();

  @jakarta.inject.Inject TrainerConfig trainerConfig;

  private static boolean published;

  /**
   * A small real MNIST subset on the shared broker, once per test JVM (every class trains on it).
   */
  @BeforeAll
  static synchronized void publishSmallDataset() throws Exception {
    if (published) {
      return;
    }
    published = true;
    String bootstrap = SharedKafka.bootstrapServers();
    TOPICS.ensureAll(KafkaConnection.to(bootstrap));
    MnistFiles files =
        new MnistFiles(Path.of(System.getProperty("mnist.dir", "../data/mnist")), true);
    try (KafkaProducer<String, byte[]> producer = producer()) {
      new DatasetWriter(producer, TOPICS)
          .publish(
              "trainer-test", files.train().head(3000), files.test().head(500), 0.2, 250, null);
    }
  }

  static KafkaProducer<String, byte[]> producer() {
    return KafkaClients.writer(KafkaConnection.to(SharedKafka.bootstrapServers()), Map.of());
  }

  @Test
  void badCommandsEachYieldOneFailedEventWithTheReason() throws Exception {
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("not json at all", "MALFORMED_JSON");
    expected.put("{\"epochs\": 0}", "'epochs' must be in 1..1000, got 0");
    expected.put("{\"batchSize\": 0}", "'batchSize' must be in 1..60000, got 0");
    expected.put("{\"batchSize\": 60001}", "'batchSize' must be in 1..60000, got 60001");
    expected.put("{\"batchSize\": 60000}", "'batchSize' 60000 needs about 15000 MB");
    expected.put("{\"learningRate\": -0.5}", "'learningRate' must be in [1.0E-9, 10]");
    expected.put("{\"optimizer\": \"lion\"}", "'optimizer' must be one of");
    Map<String, String> runIds = new LinkedHashMap<>();
    try (KafkaProducer<String, byte[]> producer = producer()) {
      for (String body : expected.keySet()) {
        long offset =
            producer
                .send(
                    new ProducerRecord<>(
                        TOPICS.name(Topic.TRAINING_COMMANDS),
                        body.getBytes(StandardCharsets.UTF_8)))
                .get()
                .offset();
        runIds.put(body, "run-" + offset);
      }
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              List<TrainingEvent> events = events();
              for (var e : expected.entrySet()) {
                String runId = runIds.get(e.getKey());
                List<TrainingEvent> forRun =
                    events.stream().filter(ev -> runId.equals(ev.runId())).toList();
                assertThat(forRun).as(e.getKey()).hasSize(1);
                assertThat(forRun.get(0)).isInstanceOf(TrainingEvent.Failed.class);
                assertThat(((TrainingEvent.Failed) forRun.get(0)).message())
                    .as(e.getKey())
                    .contains(e.getValue());
              }
            });
    given()
        .get("/api/runs/" + runIds.get("{\"epochs\": 0}"))
        .then()
        .statusCode(200)
        .body("state", equalTo("FAILED"));
    operator()
        .body("{\"batchSize\": 8192}")
        .post("/api/runs")
        .then()
        .statusCode(400)
        .body("error", containsString("this trainer takes at most 4096"));
    // A body past the service's limit (64K) is refused before it is read.
    operator()
        .body("{\"runId\": \"" + "x".repeat(70_000) + "\"}")
        .post("/api/runs")
        .then()
        .statusCode(413);
  }

  @Test
  void aCommandTrainsAndPublishesEventsAndVersionedCheckpoints() {
    String runId =
        operator()
            .body("{\"epochs\": 2, \"seed\": 3}")
            .post("/api/runs")
            .then()
            .statusCode(202)
            .extract()
            .path("runId");
    await()
        .atMost(Duration.ofMinutes(2))
        .until(() -> events().stream().anyMatch(e -> runId.equals(e.runId()) && e.type().ends()));
    List<TrainingEvent> run = events().stream().filter(e -> runId.equals(e.runId())).toList();
    assertThat(run)
        .extracting(TrainingEvent::type)
        .containsExactly(
            TrainingEvent.Type.QUEUED,
            TrainingEvent.Type.STARTED,
            TrainingEvent.Type.EPOCH,
            TrainingEvent.Type.EPOCH,
            TrainingEvent.Type.COMPLETED);
    TrainingEvent.Completed done = (TrainingEvent.Completed) run.get(4);
    TrainingEvent.Epoch first = (TrainingEvent.Epoch) run.get(2);
    TrainingEvent.Epoch second = (TrainingEvent.Epoch) run.get(3);
    assertThat(done.testAccuracy()).isBetween(0.5, 1.0);
    assertThat(first.devAccuracy()).isBetween(0.0, 1.0);
    assertThat(second.modelVersion())
        .as("versions grow: each is a claim's offset on the checkpoint topic, plus one")
        .isGreaterThan(first.modelVersion());
    assertThat(done.modelVersion()).isEqualTo(second.modelVersion());

    List<Checkpoint> checkpoints =
        checkpoints().stream().filter(c -> runId.equals(c.header().runId())).toList();
    assertThat(checkpoints).hasSize(2);
    Checkpoint last = checkpoints.get(1);
    assertThat(last.header().modelVersion()).isEqualTo(done.modelVersion());
    assertThat(last.header().architectureId()).isEqualTo(LeNet5.ARCHITECTURE_ID);
    assertThat(last.header().parameterCount()).isEqualTo(LeNet5.TOTAL_PARAMETERS);
    assertThat(last.header().testAccuracy()).isEqualTo(done.testAccuracy());
    assertThat(checkpoints.get(0).header().testAccuracy()).isNull();
    assertThat(last.parameters().length).isBetween(240_000, 270_000);
    // Each is signed with the trainer's key (created at its first start, the public key beside it).
    var trusted =
        new CheckpointSignature.Verifier(
            List.of(SigningKeys.loadOrCreate(trainerConfig.signingKeyFile()).getPublic()));
    List<ConsumerRecord<String, byte[]>> records =
        readAll(TOPICS.name(Topic.MODEL_CHECKPOINTS)).stream()
            .filter(r -> Checkpoint.versionOfKey(r.key()) >= first.modelVersion())
            .filter(r -> runId.equals(Checkpoint.decode(r.value()).header().runId()))
            .toList();
    assertThat(records).hasSize(2);
    records.forEach(r -> trusted.verify(r.value(), r.headers()));

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                given()
                    .get("/api/runs/" + runId)
                    .then()
                    .statusCode(200)
                    .body("state", equalTo("COMPLETED"))
                    .body("history", hasSize(2))
                    .body("describe.loss.count", equalTo(2))
                    .body("settings", containsString("seed=3")));
    byte[] png =
        given()
            .get("/api/runs/" + runId + "/loss.png")
            .then()
            .statusCode(200)
            .extract()
            .asByteArray();
    assertThat(png).startsWith(0x89, 'P', 'N', 'G');
    given().get("/api/runs/nope").then().statusCode(404);
    // Only the operator starts or cancels runs: without the token, 401 and nothing published.
    int commandsBefore = readAll(TOPICS.name(Topic.TRAINING_COMMANDS)).size();
    given()
        .contentType("application/json")
        .body("{\"epochs\": 1000}")
        .post("/api/runs")
        .then()
        .statusCode(401)
        .body("reason", equalTo("NO_TOKEN"));
    given().delete("/api/runs/" + runId).then().statusCode(401);
    assertThat(readAll(TOPICS.name(Topic.TRAINING_COMMANDS)))
        .as("nothing reached training.commands")
        .hasSize(commandsBefore);
    operator()
        .body("{\"epochs\": -1}")
        .post("/api/runs")
        .then()
        .statusCode(400)
        .body("error", containsString("'epochs' must be in 1..1000"));
  }

  @Test
  void commandsAreJudgedOnArrivalQueuedInOrderAndCancellable() throws Exception {
    String tag = Long.toString(System.nanoTime(), 36);
    String running = "long-" + tag;
    String first = "q1-" + tag;
    String second = "q2-" + tag;
    String bad = "bad-" + tag;
    send(running, "{\"runId\": \"" + running + "\", \"epochs\": 40}");
    await("run " + running + " starts")
        .atMost(Duration.ofMinutes(1))
        .until(() -> types(running).contains(TrainingEvent.Type.STARTED));
    send(first, "{\"runId\": \"" + first + "\", \"epochs\": 1}");
    send(second, "{\"runId\": \"" + second + "\", \"epochs\": 1}");

    // A bad command, while a run is active: its FAILED event, under the sender's run id, at once.
    long sent = System.nanoTime();
    send(null, "{\"runId\": \"" + bad + "\", \"epochs\": -1}");
    await("FAILED for " + bad)
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> types(bad).contains(TrainingEvent.Type.FAILED));
    System.out.printf(
        "FAILED for a bad command during a run after %d ms%n",
        (System.nanoTime() - sent) / 1_000_000);
    assertThat(types(bad)).containsExactly(TrainingEvent.Type.FAILED);

    // Valid commands are queued with their positions, in order.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> types(second).contains(TrainingEvent.Type.QUEUED));
    assertThat(event(first, TrainingEvent.Queued.class).position()).isEqualTo(1);
    assertThat(event(second, TrainingEvent.Queued.class).position()).isEqualTo(2);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                given()
                    .get("/api/runs/" + second)
                    .then()
                    .body("state", equalTo("QUEUED"))
                    .body("position", equalTo(2)));

    // Cancel of a queued run (over HTTP): it never starts. Cancel of the running one (a command):
    // it stops within an epoch, and the next in the queue runs.
    operator().delete("/api/runs/" + second).then().statusCode(202);
    await("an epoch of " + running + " (so it has a checkpoint to mark)")
        .atMost(Duration.ofMinutes(1))
        .until(() -> types(running).contains(TrainingEvent.Type.EPOCH));
    send(running, "{\"cancel\": \"" + running + "\"}");
    await("the running run is cancelled")
        .atMost(Duration.ofMinutes(1))
        .until(() -> types(running).contains(TrainingEvent.Type.CANCELLED));
    assertThat(event(running, TrainingEvent.Cancelled.class).epoch()).isLessThan(40);
    await("the next queued run completes")
        .atMost(Duration.ofMinutes(1))
        .until(() -> types(first).contains(TrainingEvent.Type.COMPLETED));
    assertThat(types(second))
        .containsExactly(TrainingEvent.Type.QUEUED, TrainingEvent.Type.CANCELLED);
    assertThat(types(first))
        .containsExactly(
            TrainingEvent.Type.QUEUED,
            TrainingEvent.Type.STARTED,
            TrainingEvent.Type.EPOCH,
            TrainingEvent.Type.COMPLETED);
    int cancelledAfter = event(running, TrainingEvent.Cancelled.class).epoch();
    List<Checkpoint.Header> cancelledCheckpoints =
        checkpoints().stream()
            .filter(c -> running.equals(c.header().runId()))
            .map(Checkpoint::header)
            .toList();
    assertThat(cancelledCheckpoints)
        .as("no checkpoint of the epoch the cancel cut")
        .hasSize(cancelledAfter)
        .as("never the final epoch, so the run has no candidate for a gate to judge")
        .allMatch(h -> h.epoch() < h.epochs());
    assertThat(readAll(TOPICS.name(Topic.MODEL_CONTROL)))
        .as("only the inference fleet writes model.control")
        .isEmpty();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> given().get("/api/runs/" + second).then().body("state", equalTo("CANCELLED")));
    operator().delete("/api/runs/" + second).then().statusCode(409);
  }

  @Test
  void fiveCommandsBehindARunAreQueuedAtPositionsOneToFiveAndRunInOrder() throws Exception {
    String tag = Long.toString(System.nanoTime(), 36);
    String blocker = "block-" + tag;
    send(blocker, "{\"runId\": \"" + blocker + "\", \"epochs\": 40}");
    await("run " + blocker + " starts")
        .atMost(Duration.ofMinutes(1))
        .until(() -> types(blocker).contains(TrainingEvent.Type.STARTED));
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      String id = "five-" + i + "-" + tag;
      ids.add(id);
      send(id, "{\"runId\": \"" + id + "\", \"epochs\": 1}");
    }
    await("five QUEUED events")
        .atMost(Duration.ofSeconds(20))
        .until(() -> ids.stream().allMatch(id -> types(id).contains(TrainingEvent.Type.QUEUED)));
    assertThat(ids.stream().map(id -> event(id, TrainingEvent.Queued.class).position()))
        .containsExactly(1, 2, 3, 4, 5);
    send(blocker, "{\"cancel\": \"" + blocker + "\"}");
    await("the five runs complete")
        .atMost(Duration.ofMinutes(3))
        .until(() -> ids.stream().allMatch(id -> types(id).contains(TrainingEvent.Type.COMPLETED)));
    List<String> startOrder =
        events().stream()
            .filter(e -> e instanceof TrainingEvent.Started && ids.contains(e.runId()))
            .map(TrainingEvent::runId)
            .toList();
    assertThat(startOrder).as("one start each, in the order sent").isEqualTo(ids);
  }

  @Test
  void aRunThatEndedNeverRunsAgainAndOneCutShortTooOftenIsGivenUp() throws Exception {
    String tag = Long.toString(System.nanoTime(), 36);
    // As if the trainer had died after the run's end but before its command was committed...
    String done = "done-" + tag;
    publish(TrainingEvent.completed(done, 1, 0.1, 0.9, null, null, 1, 1.0));
    // ...and as if it had been killed three times during this one.
    String cut = "cut-" + tag;
    for (int i = 0; i < 3; i++) {
      publish(
          TrainingEvent.started(
              cut, 1, "cpu()", "epochs=1", new TrainingEvent.Data("trainer-test", null)));
    }
    send(done, "{\"runId\": \"" + done + "\", \"epochs\": 1}");
    send(cut, "{\"runId\": \"" + cut + "\", \"epochs\": 1}");
    String after = "after-" + tag;
    send(after, "{\"runId\": \"" + after + "\", \"epochs\": 1}");
    await("the command after them completes")
        .atMost(Duration.ofMinutes(1))
        .until(() -> types(after).contains(TrainingEvent.Type.COMPLETED));
    assertThat(types(done)).as("never run again").containsExactly(TrainingEvent.Type.COMPLETED);
    assertThat(types(cut))
        .containsExactly(
            TrainingEvent.Type.STARTED,
            TrainingEvent.Type.STARTED,
            TrainingEvent.Type.STARTED,
            TrainingEvent.Type.FAILED);
    assertThat(event(cut, TrainingEvent.Failed.class).message())
        .contains("started 3 times without finishing");
  }

  private static void publish(TrainingEvent event) throws Exception {
    try (KafkaProducer<String, byte[]> producer = producer()) {
      producer
          .send(
              new ProducerRecord<>(
                  TOPICS.name(Topic.TRAINING_EVENTS), event.runId(), event.encode()))
          .get();
    }
  }

  /** Publishes a training command, as a client of the trainer would. */
  static void send(String key, String json) throws Exception {
    try (KafkaProducer<String, byte[]> producer = producer()) {
      producer
          .send(
              new ProducerRecord<>(
                  TOPICS.name(Topic.TRAINING_COMMANDS), key, json.getBytes(StandardCharsets.UTF_8)))
          .get();
    }
  }

  private static List<TrainingEvent.Type> types(String runId) {
    return events().stream().filter(e -> runId.equals(e.runId())).map(TrainingEvent::type).toList();
  }

  private static <T extends TrainingEvent> T event(String runId, Class<T> type) {
    return events().stream()
        .filter(e -> runId.equals(e.runId()) && type.isInstance(e))
        .map(type::cast)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type + " event for " + runId));
  }

  static List<TrainingEvent> events() {
    List<TrainingEvent> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : readAll(TOPICS.name(Topic.TRAINING_EVENTS))) {
      out.add(TrainingEvent.decode(r.value()));
    }
    return out;
  }

  static List<Checkpoint> checkpoints() {
    List<Checkpoint> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : readAll(TOPICS.name(Topic.MODEL_CHECKPOINTS))) {
      if (Checkpoint.versionOfKey(r.key()) < 0) {
        continue; // a version claim, not a checkpoint
      }
      out.add(Checkpoint.decode(r.value()));
    }
    return out;
  }

  static List<ConsumerRecord<String, byte[]>> readAll(String topic) {
    return TopicReader.of(KafkaConnection.to(SharedKafka.bootstrapServers())).toEnd(topic);
  }
}
