package lenet.inference.scoring;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import lenet.contract.wire.Prediction;
import lenet.inference.config.InferenceConfig;
import org.jboss.logging.Logger;

/**
 * Dynamic batching for single-image HTTP predictions, as Triton, TorchServe and DJL Serving offer
 * it: a request waits at most {@code inference.http.batch-window} for others, and up to {@code
 * inference.http.max-batch} of them share one forward pass; each gets the probabilities of its own
 * row. One batching thread per forward-pass slot (inference.predictors), so every slot stays busy.
 * With the window at 0 every request scores alone on a worker thread.
 */
@ApplicationScoped
public class HttpBatcher {

  private static final Logger LOG = Logger.getLogger(HttpBatcher.class);

  private record Waiting(String id, float[] row, CompletableFuture<Prediction> answer) {}

  private final Scorer scorer;
  private final long windowNanos;
  private final int maxBatch;
  private final LinkedBlockingQueue<Waiting> queue = new LinkedBlockingQueue<>();
  private final List<Thread> threads = new ArrayList<>();
  private final DistributionSummary batchSize;

  @Inject
  HttpBatcher(Scorer scorer, InferenceConfig config, MeterRegistry registry) {
    this(scorer, config.httpBatchWindow(), config.httpMaxBatch(), config.predictors(), registry);
  }

  /** With {@code batchingThreads} threads when {@code window} is above 0. */
  HttpBatcher(
      Scorer scorer, Duration window, int maxBatch, int batchingThreads, MeterRegistry registry) {
    this.scorer = scorer;
    this.windowNanos = window.toNanos();
    this.maxBatch = Math.max(1, maxBatch);
    this.batchSize =
        DistributionSummary.builder("inference.http.batch.size")
            .description("Single-image HTTP predictions per forward pass (dynamic batching)")
            .register(registry);
    if (windowNanos > 0) {
      for (int i = 0; i < Math.max(1, batchingThreads); i++) {
        Thread t = new Thread(this::loop, "http-batcher-" + i);
        t.setDaemon(true);
        t.start();
        threads.add(t);
      }
      LOG.infof(
          "HTTP predictions are batched: up to %d within %s, %d batching threads",
          this.maxBatch, window, threads.size());
    }
  }

  /**
   * The prediction for one image, computed alone or with others that arrive with it; completed on
   * the batching thread (or, with batching off, on a worker thread), exceptionally with the
   * scorer's own exception ({@code NoModelException}, ...).
   */
  public CompletableFuture<Prediction> submit(String id, float[] row) {
    if (threads.isEmpty()) {
      return CompletableFuture.supplyAsync(
          () -> {
            batchSize.record(1);
            return scorer.predict(List.of(id), new float[][] {row}, Scorer.Source.HTTP).get(0);
          },
          Infrastructure.getDefaultWorkerPool());
    }
    CompletableFuture<Prediction> answer = new CompletableFuture<>();
    queue.add(new Waiting(id, row, answer));
    return answer;
  }

  private void loop() {
    List<Waiting> batch = new ArrayList<>(maxBatch);
    while (!Thread.currentThread().isInterrupted()) {
      try {
        batch.add(queue.take());
        long deadline = System.nanoTime() + windowNanos;
        while (batch.size() < maxBatch) {
          long left = deadline - System.nanoTime();
          Waiting next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
          if (next == null) {
            break;
          }
          batch.add(next);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      score(batch);
      batch.clear();
    }
    // Stopping: the batch in hand and every request still queued get an answer.
    IllegalStateException stopping = new IllegalStateException("the service is stopping");
    batch.forEach(w -> w.answer().completeExceptionally(stopping));
    for (Waiting w; (w = queue.poll()) != null; ) {
      w.answer().completeExceptionally(stopping);
    }
  }

  private void score(List<Waiting> batch) {
    float[][] rows = new float[batch.size()][];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = batch.get(i).row();
    }
    try {
      Scorer.Scored scored = scorer.score(rows, Scorer.Source.HTTP, OptionalLong.empty());
      batchSize.record(rows.length);
      for (int i = 0; i < rows.length; i++) {
        Waiting w = batch.get(i);
        w.answer()
            .complete(
                Prediction.fromProbabilities(
                    w.id(), scored.probabilities()[i], scored.modelVersion()));
      }
    } catch (RuntimeException | Error e) {
      batch.forEach(w -> w.answer().completeExceptionally(e));
    }
  }

  void onStop(@Observes ShutdownEvent event) {
    threads.forEach(Thread::interrupt);
  }
}
