package lenet.bench;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.SequentialBlock;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import lenet.contract.dataset.DatasetWriter;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.Json;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.TrainingEvent.EpochMetrics;
import lenet.kafka.SharedKafka;
import lenet.mnist.MnistFiles;
import lenet.model.LeNet5;
import lenet.model.ModelIO;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench/run's Kafka drivers ({@code PipelineDriver}'s subcommands, {@code PassThrough}) and the
 * in-process inference peer, each run as bench/run runs it, against a real broker in this JVM and
 * on 600 real training and 300 test images. What a service would have put on the broker (a
 * checkpoint, a run's training events, a dataset copy) is written here with the contract's own
 * codecs; B9's pass-through stands in for the inference service where predictions are needed. The
 * subcommands that poll a running inference service over HTTP ({@code swaps}, {@code reloads},
 * {@code accuracy}) are not run: they need the packaged service.
 */
class KafkaDriversTest {

  @TempDir static Path work;
  static Path mnist;
  static String bootstrap;

  @BeforeAll
  static void brokerAndData() throws Exception {
    mnist = TinyMnist.write(Files.createDirectories(work.resolve("mnist")), 600, 300);
    bootstrap = SharedKafka.bootstrapServers();
    Topics.defaults().ensureAll(KafkaConnection.to(bootstrap));
  }

  /** {@code PipelineDriver args...} with bench/run's options (its {@code driver} function). */
  static Driver.Finished pipelineDriver(String name, String... args) {
    return Driver.run(
            work,
            name,
            Driver.java("1g", List.of("-Dbench.verify-checksums=false"), "PipelineDriver", args),
            Duration.ofSeconds(90))
        .succeeded();
  }

  static KafkaProducer<String, byte[]> producer() {
    return KafkaClients.writer(KafkaConnection.to(bootstrap), Map.of());
  }

  @Test
  void checkpointSavesTheNewestAndTheInProcessPeerServesIt() throws Exception {
    Checkpoint published = freshLeNet5(7);
    try (KafkaProducer<String, byte[]> p = producer()) {
      p.send(
          record(
              Topic.MODEL_CHECKPOINTS,
              Checkpoint.key(LeNet5.MODEL_NAME, 6),
              freshLeNet5(6).encode()));
      p.send(
              record(
                  Topic.MODEL_CHECKPOINTS,
                  Checkpoint.key(LeNet5.MODEL_NAME, 7),
                  published.encode()))
          .get();
    }
    Path file = work.resolve("checkpoint.bin");
    JsonNode saved = pipelineDriver("checkpoint", "checkpoint", bootstrap, file.toString()).json();
    assertThat(saved.path("version").asLong()).isEqualTo(7);
    assertThat(saved.path("checkpoints").asInt()).isEqualTo(2);
    assertThat(Checkpoint.decode(Files.readAllBytes(file)).header().sha256())
        .isEqualTo(published.header().sha256());

    // B4's peer, with bench/run's options (b4_peer), for 0.2 s instead of 5.
    JsonNode peer =
        Driver.run(
                work,
                "predict-in-process",
                Driver.java(
                    "1g",
                    List.of(
                        "-Dai.djl.pytorch.num_threads=1",
                        "-Dai.djl.pytorch.num_interop_threads=1",
                        "-Dbench.verify-checksums=false"),
                    "PredictInProcess",
                    file.toString(),
                    mnist.toString(),
                    "0.2",
                    "2"),
                Duration.ofSeconds(90))
            .succeeded()
            .json();
    assertThat(peer.path("singleCount").asInt()).isPositive();
    assertThat(peer.path("singleP50Ms").asDouble()).isPositive();
    assertThat(peer.path("singleP99Ms").asDouble())
        .isGreaterThanOrEqualTo(peer.path("singleP50Ms").asDouble());
    assertThat(peer.path("batch256ImagesPerSecond").asDouble()).isPositive();
    assertThat(peer.path("threads").asInt()).isEqualTo(2);
  }

  @Test
  void bodiesHoldRealTestDigits() throws Exception {
    Path out = work.resolve("bodies");
    pipelineDriver("bodies", "bodies", mnist.toString(), out.toString());
    MnistSet test = new MnistFiles(mnist, false).test();
    JsonNode predict = Json.MAPPER.readTree(Files.readAllBytes(out.resolve("predict.json")));
    assertThat(predict.path("pixels")).hasSize(MnistSet.IMAGE_BYTES);
    assertThat(predict.path("pixels").get(300).asInt()).isEqualTo(test.pixel(0, 300));
    JsonNode oip = Json.MAPPER.readTree(Files.readAllBytes(out.resolve("oip256.json")));
    JsonNode input = oip.path("inputs").get(0);
    assertThat(input.path("datatype").asText()).isEqualTo("UINT8");
    assertThat(input.path("shape").toString()).isEqualTo("[256,28,28]");
    assertThat(input.path("data")).hasSize(256 * MnistSet.IMAGE_BYTES);
  }

  @Test
  void watchRunReportsTheRunsEpochsAndEnd() throws Exception {
    String run = "bench-test-run";
    try (KafkaProducer<String, byte[]> p = producer()) {
      List<TrainingEvent> events = new ArrayList<>();
      events.add(TrainingEvent.queued(run, 2, 1, "epochs=2"));
      events.add(TrainingEvent.failed("another-run", "not this one"));
      events.add(
          TrainingEvent.started(run, 2, "cpu", "epochs=2", new TrainingEvent.Data("d", null)));
      events.add(
          TrainingEvent.epoch(run, 1, 2, new EpochMetrics(0.5, 0.8, 0.4, 0.85, 6.5, 7385), 1));
      events.add(
          TrainingEvent.epoch(run, 2, 2, new EpochMetrics(0.2, 0.9, 0.1, 0.95, 5.5, 8727), 2));
      events.add(TrainingEvent.completed(run, 2, 0.1, 0.96, null, null, 2, 12.5));
      for (TrainingEvent e : events) {
        p.send(record(Topic.TRAINING_EVENTS, e.runId(), e.encode()));
      }
      p.flush();
    }
    Driver.Finished finished = pipelineDriver("watch-run", "watch-run", bootstrap, run, "60");
    JsonNode j = finished.json();
    assertThat(j.path("type").asText()).isEqualTo("COMPLETED");
    assertThat(j.path("epochSeconds").toString()).isEqualTo("[6.5,5.5]");
    assertThat(j.path("devAccuracy").toString()).isEqualTo("[0.85,0.95]");
    assertThat(j.path("testAccuracy").asDouble()).isEqualTo(0.96);
    assertThat(j.path("modelVersion").asLong()).isEqualTo(2);
    if (Python.present()) { // what bench/run's b1_kafka and bench_b3 read from it
      String file = finished.stdoutFile().toString();
      assertThat(Python.report(work, "get", file, "type", "testAccuracy"))
          .isEqualTo("COMPLETED 0.96");
      assertThat(Python.report(work, "mean", file, "epochSeconds")).isEqualTo("6.0");
    }
  }

  @Test
  void scoreTimesEveryFormThroughTheTransactionalPassThrough() throws Exception {
    // B9's pass-through, as bench/run launches it (its own topics, group and 2 workers).
    Process passThrough =
        Driver.start(
            work,
            "pass-through",
            Driver.java(
                "1g",
                List.of(),
                "PassThrough",
                bootstrap,
                "bench.images.pt",
                "bench.predictions.pt",
                "bench-pt",
                "2",
                "300")); // it stops by itself after 300 s, should this JVM die first
    try {
      for (String form : List.of("json", "raw", "traced")) {
        JsonNode j =
            pipelineDriver(
                    "score-" + form,
                    "score",
                    bootstrap,
                    "bench.images.pt",
                    "bench.predictions.pt",
                    mnist.toString(),
                    "400",
                    "t-" + form,
                    "60",
                    form)
                .json();
        assertThat(j.path("complete").asBoolean())
            .as("%s: %s; pass-through stderr:%n%s", form, j, Driver.stderrOf(work, "pass-through"))
            .isTrue();
        assertThat(j.path("received").asInt()).isEqualTo(400);
        assertThat(j.path("imagesPerSecond").asDouble()).isPositive();
      }
      assertThat(passThrough.isAlive())
          .as("the pass-through stopped early:%n%s", Driver.stderrOf(work, "pass-through"))
          .isTrue();
    } finally {
      Driver.stop(passThrough);
    }
  }

  @Test
  void ingestPeerSendsEveryImageInIngestsRecords() {
    JsonNode j = pipelineDriver("ingest-peer", "ingest-peer", bootstrap, mnist.toString()).json();
    assertThat(j.path("images").asInt()).isEqualTo(900);
    assertThat(j.path("records").asInt()).isEqualTo(3 + 2); // 250 images a record, per file
    assertThat(j.path("seconds").asDouble()).isPositive();
  }

  @Test
  void readDatasetReadsTheCopyIngestWrites() throws Exception {
    MnistFiles files = new MnistFiles(mnist, false);
    try (KafkaProducer<String, byte[]> p = producer()) {
      new DatasetWriter(p, Topics.defaults())
          .publish("tiny", files.train(), files.test(), 0.2, 250, null);
    }
    JsonNode j = pipelineDriver("read-dataset", "read-dataset", bootstrap).json();
    assertThat(j.path("trainImages").asInt()).isEqualTo(480);
    assertThat(j.path("devImages").asInt()).isEqualTo(120);
    assertThat(j.path("testImages").asInt()).isEqualTo(300);
  }

  /** A LeNet-5 checkpoint of freshly initialized parameters, as {@code version}. */
  static Checkpoint freshLeNet5(long version) {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      SequentialBlock block = LeNet5.newBlock();
      block.initialize(manager, DataType.FLOAT32, LeNet5.INPUT_SHAPE);
      byte[] parameters = ModelIO.parameters(block);
      return new Checkpoint(
          Checkpoint.Header.lenet5(version)
              .runId("bench-test")
              .epoch(1, 1)
              .parametersOf(parameters)
              .build(),
          parameters);
    }
  }

  static ProducerRecord<String, byte[]> record(Topic topic, String key, byte[] value) {
    return new ProducerRecord<>(Topics.defaults().name(topic), key, value);
  }
}
