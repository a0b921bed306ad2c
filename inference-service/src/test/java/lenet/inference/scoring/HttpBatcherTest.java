package lenet.inference.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import lenet.contract.wire.Prediction;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.model.ModelManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link HttpBatcher} decides, on the service's real scorer and model: how many requests share
 * a forward pass (at most the max batch), how long a request waits for others (the window, no
 * longer), that each gets its own row's answer, that a failed pass fails only its own batch, and
 * that stopping answers every request still waiting. Each batcher here is its own, with its own
 * meter registry, beside the service's.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class HttpBatcherTest {

  private static final String BATCH_SIZE = "inference.http.batch.size";

  @Inject Scorer scorer;
  @Inject ModelManager models;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void aModelServes() {
    TestModels.ensureServing(models);
  }

  @Test
  void requestsArrivingTogetherShareForwardPassesOfAtMostMaxBatchEachWithItsOwnAnswer()
      throws Exception {
    HttpBatcher batcher = new HttpBatcher(scorer, Duration.ofSeconds(1), 4, 1, registry);
    try {
      List<CompletableFuture<Prediction>> answers = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        answers.add(batcher.submit("img-" + i, row(i)));
      }
      for (int i = 0; i < 10; i++) {
        Prediction p = answers.get(i).get(10, TimeUnit.SECONDS);
        assertThat(p.id()).isEqualTo("img-" + i);
        assertThat(p.probabilities()).as("image %d", i).containsExactly(alone(i), within(1e-5f));
      }
      DistributionSummary sizes = sizes();
      assertThat(sizes.count()).as("forward passes: 4, 4, then the last 2").isEqualTo(3);
      assertThat(sizes.max()).isEqualTo(4);
      assertThat(sizes.totalAmount()).isEqualTo(10);
    } finally {
      batcher.onStop(null);
    }
  }

  @Test
  void aLoneRequestWaitsTheWindowForOthersAndNoLonger() throws Exception {
    Duration window = Duration.ofMillis(400);
    HttpBatcher batcher = new HttpBatcher(scorer, window, 8, 1, registry);
    try {
      long start = System.nanoTime();
      batcher.submit("lone", row(0)).get(10, TimeUnit.SECONDS);
      long waitedMs = (System.nanoTime() - start) / 1_000_000;
      // (Not forever: without a deadline it would wait for 7 more and time out above.)
      assertThat(waitedMs).isGreaterThanOrEqualTo(window.toMillis() - 20);

      CompletableFuture<Prediction> first = batcher.submit("first", row(1));
      Thread.sleep(100);
      CompletableFuture<Prediction> second = batcher.submit("second", row(2));
      assertThat(second.get(10, TimeUnit.SECONDS).id()).isEqualTo("second");
      assertThat(first.get(10, TimeUnit.SECONDS).id()).isEqualTo("first");
      assertThat(sizes().count()).as("the lone one, then the two together").isEqualTo(2);
      assertThat(sizes().max()).isEqualTo(2);
    } finally {
      batcher.onStop(null);
    }
  }

  @Test
  void withTheWindowAtZeroEveryRequestIsItsOwnForwardPass() throws Exception {
    HttpBatcher batcher = new HttpBatcher(scorer, Duration.ZERO, 32, 2, registry);
    List<CompletableFuture<Prediction>> answers = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      answers.add(batcher.submit("solo-" + i, row(i)));
    }
    for (int i = 0; i < 5; i++) {
      assertThat(answers.get(i).get(10, TimeUnit.SECONDS).probabilities())
          .containsExactly(alone(i), within(1e-5f));
    }
    assertThat(sizes().count()).isEqualTo(5);
    assertThat(sizes().max()).isEqualTo(1);
  }

  @Test
  void aFailedForwardPassFailsOnlyItsOwnBatchAndTheNextIsScored() throws Exception {
    HttpBatcher batcher = new HttpBatcher(scorer, Duration.ofMillis(300), 2, 1, registry);
    try {
      CompletableFuture<Prediction> good = batcher.submit("good", row(3));
      CompletableFuture<Prediction> broken = batcher.submit("broken", new float[3]);
      Throwable whyBroken = failure(broken);
      assertThat(whyBroken).isNotNull();
      assertThat(failure(good)).as("its batch-mate gets the same failure").isSameAs(whyBroken);

      Prediction after = batcher.submit("after", row(4)).get(10, TimeUnit.SECONDS);
      assertThat(after.probabilities()).containsExactly(alone(4), within(1e-5f));
    } finally {
      batcher.onStop(null);
    }
  }

  @Test
  void stoppingAnswersEveryRequestStillWaiting() throws Exception {
    HttpBatcher batcher = new HttpBatcher(scorer, Duration.ofSeconds(30), 100, 1, registry);
    List<CompletableFuture<Prediction>> waiting = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      waiting.add(batcher.submit("waiting-" + i, row(i)));
    }
    batcher.onStop(null);
    for (CompletableFuture<Prediction> w : waiting) {
      assertThat(failure(w))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("stopping");
    }
  }

  private DistributionSummary sizes() {
    return registry.get(BATCH_SIZE).summary();
  }

  private static float[] row(int image) {
    return TestModels.inputs(TestModels.mnistTest(), image, 1);
  }

  /** The probabilities of image {@code i} scored alone. */
  private float[] alone(int image) {
    return scorer.score(new float[][] {row(image)}, Scorer.Source.HTTP, OptionalLong.empty())
        .probabilities()[0];
  }

  /** Why {@code answer} failed, waiting at most 5 s for it; null when it did not fail. */
  private static Throwable failure(CompletableFuture<Prediction> answer) throws Exception {
    try {
      answer.get(5, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }
}
