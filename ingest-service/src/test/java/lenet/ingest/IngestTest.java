package lenet.ingest;

import static io.restassured.RestAssured.given;
import static lenet.webtest.Operator.operator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import lenet.contract.dataset.DatasetReader;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topics;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.DatasetManifest;
import lenet.kafka.SharedKafka;
import lenet.kafka.SharedKafkaResource;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;

/**
 * The whole real MNIST through a real broker: counts, values and order as the tutorial's
 * preprocessing gives.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class IngestTest {

  @Inject IngestJob job;
  @Inject IngestConfig config;

  @Test
  void ingestsTheRealMnistOnceAndReadsBackExactly() {
    // Another test class may have ingested this copy already (the broker is shared): force a fresh
    // one.
    await()
        .atMost(Duration.ofMinutes(3))
        .until(() -> job.status().state() != IngestJob.State.RUNNING);
    operator().post("/api/datasets/mnist/ingest?force=true").then().statusCode(202);
    await()
        .atMost(Duration.ofMinutes(3))
        .until(() -> job.status().state() != IngestJob.State.RUNNING);
    assertThat(job.status().state()).as(job.status().message()).isEqualTo(IngestJob.State.DONE);

    given()
        .get("/api/datasets/mnist")
        .then()
        .statusCode(200)
        .body("facts.splits.train.images", equalTo(48_000))
        .body("facts.splits.dev.images", equalTo(12_000))
        .body("facts.splits.test.images", equalTo(10_000))
        .body("facts.splits.train.rawPeakToPeak", equalTo(255))
        .body("facts.splits.train.peakToPeak", equalTo(1.0f))
        .body("facts.splits.test.shape", equalTo(java.util.List.of(10_000, 1, 28, 28)))
        .body("status.manifest.splits.train.images", equalTo(48_000));

    MnistFiles files = new MnistFiles(Path.of(config.dataDir()), true);
    MnistSet train = files.train();
    MnistSet test = files.test();
    try (KafkaConsumer<String, byte[]> consumer =
        KafkaClients.reader(KafkaConnection.to(SharedKafka.bootstrapServers()))) {
      DatasetReader reader = new DatasetReader(consumer, Topics.defaults());
      DatasetManifest manifest = reader.latestManifest("mnist").orElseThrow();
      assertThat(manifest.split(Split.TRAIN).images()).isEqualTo(48_000);
      assertThat(manifest.split(Split.DEV).images()).isEqualTo(12_000);
      assertThat(manifest.split(Split.TEST).images()).isEqualTo(10_000);
      assertSame(reader.read(manifest, Split.TRAIN), train, 0);
      assertSame(reader.read(manifest, Split.DEV), train, 48_000);
      assertSame(reader.read(manifest, Split.TEST), test, 0);
    }

    // Only the operator may ingest (each forced copy adds ~220 MB to Kafka for good), and only
    // with JSON: no token, a wrong one, or a form post is refused and starts nothing.
    given()
        .contentType("application/json")
        .post("/api/datasets/mnist/ingest?force=true")
        .then()
        .statusCode(401)
        .body("reason", equalTo("NO_TOKEN"));
    given()
        .header("Authorization", "Bearer a-token-that-is-not-this-services")
        .contentType("application/json")
        .post("/api/datasets/mnist/ingest?force=true")
        .then()
        .statusCode(401)
        .body("reason", equalTo("BAD_TOKEN"));
    operator()
        .contentType("application/x-www-form-urlencoded")
        .formParam("force", "true")
        .post("/api/datasets/mnist/ingest")
        .then()
        .statusCode(415)
        .body("reason", equalTo("NOT_JSON"));
    assertThat(job.status().state()).as("nothing started").isEqualTo(IngestJob.State.DONE);
    operator().post("/api/datasets/mnist/ingest").then().statusCode(202);
    // A body past the service's limit (64K) is refused before it is read.
    operator().body("x".repeat(70_000)).post("/api/datasets/mnist/ingest").then().statusCode(413);
    await()
        .atMost(Duration.ofMinutes(1))
        .until(() -> job.status().state() != IngestJob.State.RUNNING);
    assertThat(job.status().state()).isEqualTo(IngestJob.State.SKIPPED);
  }

  private static void assertSame(DatasetReader.SplitData data, MnistSet source, int offset) {
    for (int i = 0; i < data.count(); i++) {
      if (data.labels()[i] != source.labels()[offset + i]) {
        throw new AssertionError(data.split() + " label " + i + " differs");
      }
      for (int p = 0; p < 784; p++) {
        if (data.pixels()[i * 784 + p] != source.pixel(offset + i, p) / 255f) {
          throw new AssertionError(data.split() + " image " + i + " pixel " + p + " differs");
        }
      }
    }
  }
}
