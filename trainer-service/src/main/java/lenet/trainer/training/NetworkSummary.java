package lenet.trainer.training;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import lenet.model.LeNet5;
import org.jboss.logging.Logger;

/**
 * The network's Keras-style summary, built once, on the thread that trains ({@link #buildHere}),
 * and kept for {@code GET /api/model} and the start-up log.
 *
 * <p>Why on that thread: libgomp (libtorch's OpenMP) gives every thread that runs libtorch ops a
 * pool of worker threads of its own, and once it manages more threads than there are cores its
 * workers stop spinning between parallel regions and sleep at once. A summary built on the main
 * thread and another on an HTTP thread were enough for that on 2 cores: the training thread's
 * OpenMP partner then slept and woke ~9,000 times a second (against ~10 in a plain JVM running the
 * same {@code Training.run}) and epochs took 1.2-1.4x as long. So every libtorch call of this
 * trainer runs on the one training thread.
 */
@ApplicationScoped
public class NetworkSummary {

  private static final Logger LOG = Logger.getLogger(NetworkSummary.class);

  private final CompletableFuture<LeNet5.Summary> summary = new CompletableFuture<>();

  /** Builds the summary on the calling thread (the training thread) and logs it. */
  public void buildHere() {
    // On the CPU whatever trainer.device says: a summary counts parameters and shapes, and the
    // engine's default device (a GPU when one is visible) would take GPU memory for nothing.
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      LeNet5.Summary s = LeNet5.summary(manager);
      LOG.infof(
          "LeNet-5 (%s), as the tutorial's model.summary():%n%s",
          LeNet5.ARCHITECTURE_ID, s.table());
      summary.complete(s);
    } catch (RuntimeException e) {
      summary.completeExceptionally(e);
      throw e;
    }
  }

  /** The summary, once the training thread has built it (within seconds of start). */
  public LeNet5.Summary get() {
    try {
      return summary.get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the network summary", e);
    } catch (Exception e) {
      throw new IllegalStateException("the network summary is not available: " + e, e);
    }
  }
}
