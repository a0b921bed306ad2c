package lenet.inference.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.OptionalLong;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.model.ModelManager;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * Measures single-image latency (HTTP round trip and the forward pass alone) and batch throughput,
 * and holds them to generous bounds that a leak or a per-request model load would break. The
 * numbers are logged for the record.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class LatencyTest {

  private static final Logger LOG = Logger.getLogger(LatencyTest.class);

  @Inject ModelManager models;
  @Inject Scorer scorer;

  @TestHTTPResource("/api/predict")
  URI predict;

  @Test
  void singleImagesTakeMillisecondsAndBatchesAreFaster() throws Exception {
    TestModels.ensureServing(models);
    HttpClient http = HttpClient.newHttpClient();
    String body = TestModels.pixelsJson(null, 0);
    HttpRequest request =
        HttpRequest.newBuilder(predict)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    int n = 300;
    long[] httpNanos = new long[n];
    for (int i = -50; i < n; i++) {
      long t0 = System.nanoTime();
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      if (i >= 0) {
        httpNanos[i] = System.nanoTime() - t0;
      }
    }
    float[][] one = {new float[784]};
    long[] forwardNanos = new long[n];
    for (int i = -50; i < n; i++) {
      long t0 = System.nanoTime();
      scorer.score(one, Scorer.Source.OIP, OptionalLong.empty());
      if (i >= 0) {
        forwardNanos[i] = System.nanoTime() - t0;
      }
    }
    float[][] batch = new float[256][];
    for (int i = 0; i < batch.length; i++) {
      batch[i] = TestModels.inputs(TestModels.mnistTest(), i, 1);
    }
    scorer.score(batch, Scorer.Source.OIP, OptionalLong.empty());
    long t0 = System.nanoTime();
    int rounds = 20;
    for (int i = 0; i < rounds; i++) {
      scorer.score(batch, Scorer.Source.OIP, OptionalLong.empty());
    }
    double imagesPerSecond = rounds * batch.length / ((System.nanoTime() - t0) / 1e9);

    double httpMedian = percentile(httpNanos, 0.5);
    double forwardMedian = percentile(forwardNanos, 0.5);
    LOG.infof(
        "Latency: HTTP /api/predict median %.2f ms, p99 %.2f ms; forward pass of one image median %.2f ms, p99 %.2f ms;"
            + " batches of 256: %.0f images/s",
        httpMedian,
        percentile(httpNanos, 0.99),
        forwardMedian,
        percentile(forwardNanos, 0.99),
        imagesPerSecond);
    assertThat(httpMedian).as("HTTP median ms").isLessThan(25);
    assertThat(forwardMedian).as("forward median ms").isLessThan(10);
    assertThat(imagesPerSecond).as("batched images/s").isGreaterThan(1000 / forwardMedian);
  }

  private static double percentile(long[] nanos, double q) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return sorted[(int) Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))] / 1e6;
  }
}
