package lenet.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import lenet.contract.dataset.DatasetReader;
import lenet.contract.topics.Topics;
import lenet.contract.wire.DatasetManifest;
import lenet.kafka.SharedKafka;
import lenet.kafka.SharedKafkaResource;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;

/** A corrupt file fails the ingest with its reason and publishes no manifest. */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
@TestProfile(CorruptFilesTest.CorruptCopy.class)
class CorruptFilesTest {

  /** A copy of the real files whose test images have a wrong magic number. */
  public static class CorruptCopy implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      try {
        Path real = Path.of(System.getProperty("mnist.dir", "../data/mnist"));
        Path dir = Files.createTempDirectory("mnist-corrupt-");
        for (String name : MnistFiles.NAMES) {
          Files.copy(new MnistFiles(real, true).find(name), dir.resolve(name));
        }
        byte[] images = Files.readAllBytes(dir.resolve(MnistFiles.TEST_IMAGES));
        ByteBuffer.wrap(images).putInt(0, 1234);
        Files.write(dir.resolve(MnistFiles.TEST_IMAGES), images);
        return Map.of(
            "ingest.data-dir",
            dir.toString(),
            "ingest.fetch",
            "false",
            "ingest.max-train-images",
            "1000");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Inject IngestJob job;

  @Test
  void failsWithTheFileAndProblemAndPublishesNothing() {
    Optional<DatasetManifest> before = manifest();
    await()
        .atMost(Duration.ofMinutes(1))
        .until(() -> job.status().state() != IngestJob.State.RUNNING);
    assertThat(job.status().state()).isEqualTo(IngestJob.State.FAILED);
    given()
        .get("/api/datasets/mnist")
        .then()
        .statusCode(200)
        .body("status.state", equalTo("FAILED"))
        .body("status.message", containsString("t10k-images-idx3-ubyte has magic number 1234"));
    given().get("/q/health/ready").then().statusCode(503);
    assertThat(manifest().map(DatasetManifest::datasetId))
        .isEqualTo(before.map(DatasetManifest::datasetId));
  }

  private static Optional<DatasetManifest> manifest() {
    try (KafkaConsumer<String, byte[]> consumer =
        KafkaClients.reader(KafkaConnection.to(SharedKafka.bootstrapServers()))) {
      Topics.defaults().ensureAll(KafkaConnection.to(SharedKafka.bootstrapServers()));
      return new DatasetReader(consumer, Topics.defaults()).latestManifest("mnist");
    }
  }
}
