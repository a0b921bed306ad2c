package lenet.inference.scoring;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.model.ModelManager;
import org.junit.jupiter.api.Test;

/**
 * Dynamic batching: concurrent single-image requests share forward passes, and every request still
 * gets the answer for its own image, the same as when it is scored alone.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class HttpBatchingTest {

  @Inject ModelManager models;
  @Inject MeterRegistry registry;

  @Test
  void concurrentRequestsShareForwardPassesAndEachGetsItsOwnAnswer() throws Exception {
    TestModels.ensureServing(models);
    int images = 24;
    Map<Integer, JsonPath> alone = new HashMap<>();
    for (int i = 0; i < images; i++) {
      alone.put(i, predict("alone-" + i, i));
    }
    ExecutorService clients = Executors.newFixedThreadPool(12);
    try {
      // Rounds of concurrent requests until forward passes were shared (a loaded machine may
      // spread one round's arrivals beyond the window); every answer is checked in every round.
      await("a forward pass shared by several requests")
          .atMost(Duration.ofMinutes(1))
          .until(
              () -> {
                round(clients, images, alone);
                return maxBatch() > 1;
              });
    } finally {
      clients.shutdownNow();
    }
  }

  private void round(ExecutorService clients, int images, Map<Integer, JsonPath> alone)
      throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Future<JsonPath>> answers = new ArrayList<>();
    for (int i = 0; i < images; i++) {
      int image = i;
      answers.add(
          clients.submit(
              () -> {
                go.await();
                return predict("together-" + image, image);
              }));
    }
    go.countDown();
    for (int i = 0; i < images; i++) {
      JsonPath together = answers.get(i).get();
      assertThat(together.getString("id")).isEqualTo("together-" + i);
      assertThat(together.getInt("digit")).as("image " + i).isEqualTo(alone.get(i).getInt("digit"));
      List<Float> p = together.getList("probabilities", Float.class);
      List<Float> q = alone.get(i).getList("probabilities", Float.class);
      for (int k = 0; k < 10; k++) {
        assertThat(p.get(k)).as("image %d, class %d", i, k).isCloseTo(q.get(k), within(1e-4f));
      }
    }
  }

  private static org.assertj.core.data.Offset<Float> within(float v) {
    return org.assertj.core.data.Offset.offset(v);
  }

  private double maxBatch() {
    DistributionSummary s = registry.find("inference.http.batch.size").summary();
    return s == null ? 0 : s.max();
  }

  private static JsonPath predict(String id, int image) {
    return given()
        .contentType("application/json")
        .body(TestModels.pixelsJson(id, image))
        .post("/api/predict")
        .then()
        .statusCode(200)
        .extract()
        .jsonPath();
  }
}
