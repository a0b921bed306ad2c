import ai.djl.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import lenet.contract.dataset.MnistSet;
import lenet.contract.wire.Checkpoint;
import lenet.mnist.MnistFiles;
import lenet.model.LeNet5Inference;

/**
 * B4 peer: the same checkpoint, compiled for inference the way the inference service does it
 * ({@link LeNet5Inference}: rows of 784 floats -> one forward pass -> softmax), called in process:
 * no HTTP, no JSON. Single-image latency on one thread, and 256-image batches on {@code threads}
 * threads at once (the service has inference.predictors=2). Prints one JSON line.
 *
 * <p>{@code java -Dai.djl.pytorch.num_threads=1 -cp ... PredictInProcess <checkpoint file> <mnist
 * dir> <seconds> <threads>}; the MNIST directory needs at least 256 test images, and the original
 * files unless {@code -Dbench.verify-checksums=false}.
 */
public class PredictInProcess {

  public static void main(String[] args) throws Exception {
    Checkpoint checkpoint = Checkpoint.decode(Files.readAllBytes(Path.of(args[0])));
    MnistSet test = new MnistFiles(Path.of(args[1]), verifyChecksums()).test();
    double seconds = Double.parseDouble(args[2]);
    int threads = Integer.parseInt(args[3]);
    float[][] images = new float[256][784];
    for (int i = 0; i < 256; i++) {
      for (int p = 0; p < 784; p++) {
        images[i][p] = test.pixel(i, p) / 255f;
      }
    }
    try (LeNet5Inference network = LeNet5Inference.load(checkpoint, Device.cpu())) {
      // Single image, one thread: latency of the forward pass alone.
      double[] single;
      {
        float[][] one = {images[0]};
        long warmUntil = System.nanoTime() + (long) (1e9 * Math.min(2, seconds / 4));
        while (System.nanoTime() < warmUntil) {
          network.probabilities(one);
        }
        double[] lat = new double[1_000_000];
        int n = 0;
        long end = System.nanoTime() + (long) (1e9 * seconds);
        while (System.nanoTime() < end && n < lat.length) {
          long t = System.nanoTime();
          network.probabilities(one);
          lat[n++] = (System.nanoTime() - t) / 1e6;
        }
        single = Arrays.copyOf(lat, n);
        Arrays.sort(single);
      }
      // 256-image batches on `threads` threads at once.
      AtomicLong batches = new AtomicLong();
      Thread[] workers = new Thread[threads];
      long[] window = new long[2];
      for (int t = 0; t < threads; t++) {
        workers[t] =
            new Thread(
                () -> {
                  try {
                    for (int i = 0; i < 5; i++) {
                      network.probabilities(images);
                    }
                    synchronized (window) {
                      if (window[0] == 0) {
                        window[0] = System.nanoTime();
                        window[1] = window[0] + (long) (1e9 * seconds);
                      }
                    }
                    while (System.nanoTime() < window[1]) {
                      network.probabilities(images);
                      batches.incrementAndGet();
                    }
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });
        workers[t].start();
      }
      for (Thread w : workers) {
        w.join();
      }
      double batchSeconds = (System.nanoTime() - window[0]) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "{\"singleCount\":%d,\"singleP50Ms\":%.4f,\"singleP99Ms\":%.4f,\"singlePerSecond\":%.1f,"
              + "\"batch256ImagesPerSecond\":%.1f,\"threads\":%d}%n",
          single.length,
          pct(single, 50),
          pct(single, 99),
          single.length / seconds,
          batches.get() * 256 / batchSeconds,
          threads);
    }
    System.exit(0);
  }

  static boolean verifyChecksums() {
    return Boolean.parseBoolean(System.getProperty("bench.verify-checksums", "true"));
  }

  static double pct(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
