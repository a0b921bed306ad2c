package lenet.inference.image;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import lenet.contract.image.DigitImages;
import lenet.contract.wire.ImageEvent;
import lenet.inference.config.InferenceConfig;

/**
 * Reads and decodes what HTTP clients upload (PNG, JPEG, a {@code png} field in JSON, large bodies)
 * off the event loop, on one thread per core: however many requests wait, at most that many decoded
 * images ({@code inference.max-image-pixels} each) are in memory at once.
 */
@ApplicationScoped
public class ImageDecoder {

  /** An image's id and the network's input row for it. */
  public record Input(String id, float[] row) {}

  private final long maxPixels;
  private final ExecutorService threads;

  ImageDecoder(InferenceConfig config) {
    this.maxPixels = config.maxImagePixels();
    AtomicInteger n = new AtomicInteger();
    this.threads =
        Executors.newFixedThreadPool(
            Runtime.getRuntime().availableProcessors(),
            r -> {
              Thread t = new Thread(r, "image-decoder-" + n.getAndIncrement());
              t.setDaemon(true);
              return t;
            });
  }

  /** The model input of an event whose pixels are already at hand (no decoding). */
  public static Input pixels(ImageEvent event) {
    return new Input(event.id(), DigitImages.fromPixels(event.pixels()));
  }

  /**
   * The input of the event {@code read} gives, read and decoded on a decoder thread; a refusal
   * ({@code WireFormatException}) completes it exceptionally (wrapped in a {@code
   * CompletionException}, which Quarkus REST unwraps for the exception mappers).
   */
  public CompletableFuture<Input> decode(Supplier<ImageEvent> read) {
    return CompletableFuture.supplyAsync(
        () -> {
          ImageEvent event = read.get();
          return new Input(event.id(), DigitImages.toInput(event, maxPixels));
        },
        threads);
  }

  /**
   * Decodes already queued finish (at most max-concurrent, each bounded), so each gets its answer.
   */
  void onStop(@Observes ShutdownEvent event) {
    threads.shutdown();
  }
}
