package lenet.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import lenet.contract.dataset.DatasetReader;
import lenet.contract.dataset.DatasetWriter;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topics;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.DatasetManifest;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.Backoff;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import lenet.support.kafka.Retry;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * Reads, validates and preprocesses MNIST and streams one complete copy to Kafka. One ingest at a
 * time, on its own thread; the HTTP API and the start-up trigger only ask for one.
 */
@ApplicationScoped
public class IngestJob {

  private static final Logger LOG = Logger.getLogger(IngestJob.class);

  public enum State {
    IDLE,
    RUNNING,
    DONE,
    SKIPPED,
    FAILED
  }

  /** What a client sees: state, progress per split, rate, the result or the error. */
  public record Status(
      State state,
      String message,
      Map<String, Integer> imagesWritten,
      Double imagesPerSecond,
      Instant startedAt,
      Instant finishedAt,
      DatasetManifest manifest) {}

  private final IngestConfig config;
  private final Topics topics;
  private final KafkaConnection kafka;
  private final Counter imagesCounter;
  private final ExecutorService worker =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "mnist-ingest"));
  private final AtomicReference<Status> status =
      new AtomicReference<>(
          new Status(State.IDLE, "no ingest yet", Map.of(), null, null, null, null));
  private volatile DatasetFacts facts;

  IngestJob(IngestConfig config, Config mpConfig, KafkaConnection kafka, MeterRegistry registry) {
    this.config = config;
    this.topics = Topics.from(mpConfig);
    this.kafka = kafka;
    this.imagesCounter =
        Counter.builder("ingest.images")
            .description("Images written to the dataset topics")
            .register(registry);
  }

  void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) {
    topics.ensureAll(kafka);
    if (config.onStartup()) {
      start(false);
    }
  }

  void onStop(@Observes ShutdownEvent event) {
    worker.shutdownNow();
  }

  public Status status() {
    return status.get();
  }

  public Optional<DatasetFacts> facts() {
    return Optional.ofNullable(facts);
  }

  /**
   * Starts an ingest unless one runs. Without {@code force}, a copy of the same files already on
   * Kafka is kept.
   *
   * @return false when one is already running
   */
  public synchronized boolean start(boolean force) {
    if (status.get().state() == State.RUNNING) {
      return false;
    }
    status.set(new Status(State.RUNNING, "starting", Map.of(), null, Instant.now(), null, null));
    worker.submit(() -> run(force));
    return true;
  }

  /**
   * Runs the ingest to its end. A Kafka failure (the broker away for longer than a client waits)
   * does not end it: nothing is a dataset until its manifest is written last, so the attempt is
   * dropped and the ingest starts again after a backoff (1 s doubling to 30 s), for as long as the
   * outage lasts; the status says so. Bad files end it FAILED at once.
   */
  private void run(boolean force) {
    Instant started = Instant.now();
    try {
      Retry.untilDone(
          Backoff.brokerOutage(),
          Retry::kafkaTrouble,
          (e, attempt, wait) -> {
            String why =
                String.format(
                    "Kafka did not take the dataset (%s); attempt %d dropped (no manifest points"
                        + " to it), starting again in %d s",
                    e.getMessage(), attempt, wait.toSeconds());
            LOG.warn("Ingest: " + why);
            status.set(new Status(State.RUNNING, why, Map.of(), null, started, null, null));
          },
          () -> {
            attempt(force, started);
            return null;
          });
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      status.set(failed(started, "interrupted; no manifest was published"));
    } catch (RuntimeException e) {
      if (Retry.kafkaTrouble(e)) { // a Kafka failure ends the retries only when interrupted
        status.set(failed(started, "interrupted; no manifest was published"));
        return;
      }
      LOG.errorf("Ingest failed, nothing was published as a dataset: %s", e.getMessage());
      status.set(failed(started, e.getMessage()));
    }
  }

  private void attempt(boolean force, Instant started) throws InterruptedException {
    MnistFiles files = new MnistFiles(Path.of(config.dataDir()), config.verifyChecksums());
    if (config.fetch()) {
      files.ensurePresent();
    }
    MnistSet train = files.train();
    MnistSet test = files.test();
    train = config.maxTrainImages().map(train::head).orElse(train);
    test = config.maxTestImages().map(test::head).orElse(test);
    String datasetId = datasetId(files, train, test);
    facts = Facts.of(datasetId, train, test, config.validationSplit());
    logFacts(facts);

    Optional<DatasetManifest> existing = latestManifest();
    if (!force && existing.isPresent() && existing.get().datasetId().equals(datasetId)) {
      status.set(
          new Status(
              State.SKIPPED,
              "dataset "
                  + datasetId
                  + " is already on Kafka; POST .../ingest?force=true to write another copy",
              Map.of(),
              null,
              started,
              Instant.now(),
              existing.get()));
      LOG.infof("Dataset %s is already on Kafka; not ingesting again", datasetId);
      return;
    }
    Map<String, Integer> written = new LinkedHashMap<>();
    long t0 = System.nanoTime();
    int total = train.count() + test.count();
    Map<Split, Integer> lastLogged = new EnumMap<>(Split.class);
    DatasetManifest manifest;
    try (KafkaProducer<String, byte[]> producer = producer()) {
      manifest =
          new DatasetWriter(producer, topics)
              .publish(
                  datasetId,
                  train,
                  test,
                  config.validationSplit(),
                  config.batchSize(),
                  (split, done, of) -> {
                    int before = lastLogged.getOrDefault(split, 0);
                    imagesCounter.increment(done - before);
                    lastLogged.put(split, done);
                    written.put(split.name().toLowerCase(), done);
                    int sum = written.values().stream().mapToInt(Integer::intValue).sum();
                    double rate = sum / ((System.nanoTime() - t0) / 1e9);
                    status.set(
                        new Status(
                            State.RUNNING,
                            "writing " + split,
                            Map.copyOf(written),
                            rate,
                            started,
                            null,
                            null));
                    if (done == of) {
                      LOG.infof(
                          "Ingest %s: %s done, %,d of %,d images, %.0f images/s",
                          datasetId, split, sum, total, rate);
                    }
                  });
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    status.set(
        new Status(
            State.DONE,
            String.format("wrote %,d images in %.1f s", total, seconds),
            Map.copyOf(written),
            total / seconds,
            started,
            Instant.now(),
            manifest));
    LOG.infof(
        "Ingested dataset %s: train %,d, dev %,d, test %,d images in %.1f s (%.0f images/s)",
        datasetId,
        manifest.split(Split.TRAIN).images(),
        manifest.split(Split.DEV).images(),
        manifest.split(Split.TEST).images(),
        seconds,
        total / seconds);
  }

  private static Status failed(Instant started, String message) {
    return new Status(State.FAILED, message, Map.of(), null, started, Instant.now(), null);
  }

  /** The files' identity plus what changes the copy (subset, split, batch size). */
  private String datasetId(MnistFiles files, MnistSet train, MnistSet test) {
    String base = files.datasetId();
    boolean standard =
        train.count() == 60_000
            && test.count() == 10_000
            && config.validationSplit() == 0.2
            && config.batchSize() == 250;
    if (standard) {
      return base;
    }
    return base
        + "-"
        + train.count()
        + "-"
        + test.count()
        + "-"
        + Math.round(config.validationSplit() * 100)
        + "-"
        + config.batchSize();
  }

  private Optional<DatasetManifest> latestManifest() {
    try (KafkaConsumer<String, byte[]> consumer = KafkaClients.reader(kafka)) {
      return new DatasetReader(consumer, topics).latestManifest(DatasetWriter.DATASET_NAME);
    }
  }

  /**
   * Settings chosen by measurement (see BENCHMARKS.md): large batches and lingering so each request
   * carries several ~785 KB records; lz4 because MNIST is mostly zeros; acks=all with idempotence
   * so a retry never duplicates a batch.
   */
  private KafkaProducer<String, byte[]> producer() {
    return KafkaClients.writer(
        kafka,
        Map.of(
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true,
            ProducerConfig.COMPRESSION_TYPE_CONFIG,
            "lz4",
            ProducerConfig.LINGER_MS_CONFIG,
            10,
            ProducerConfig.BATCH_SIZE_CONFIG,
            2 * 1024 * 1024,
            ProducerConfig.BUFFER_MEMORY_CONFIG,
            128L * 1024 * 1024));
  }

  private static void logFacts(DatasetFacts f) {
    f.splits()
        .forEach(
            (name, s) ->
                LOG.infof(
                    "%s: raw %s %s (peak-to-peak %d) -> %s %s in [%.1f, %.1f] (peak-to-peak %.1f); labels per class %s",
                    name,
                    s.rawShape(),
                    s.rawDtype(),
                    s.rawPeakToPeak(),
                    s.shape(),
                    s.dtype(),
                    s.min(),
                    s.max(),
                    s.peakToPeak(),
                    s.labelCounts()));
  }

  /**
   * Computes the facts the tutorial prints, from the raw bytes (the float values are bytes / 255
   * exactly).
   */
  static final class Facts {
    static DatasetFacts of(String id, MnistSet train, MnistSet test, double validationSplit) {
      int dev = (int) Math.round(train.count() * validationSplit);
      Map<String, DatasetFacts.SplitFacts> out = new LinkedHashMap<>();
      out.put("train", split(train, 0, train.count() - dev));
      out.put("dev", split(train, train.count() - dev, dev));
      out.put("test", split(test, 0, test.count()));
      return new DatasetFacts(id, out);
    }

    private static DatasetFacts.SplitFacts split(MnistSet set, int from, int count) {
      int min = 255;
      int max = 0;
      int[] counts = new int[10];
      for (int i = from; i < from + count; i++) {
        counts[set.labels()[i]]++;
        for (int p = 0; p < MnistSet.IMAGE_BYTES; p++) {
          int v = set.pixel(i, p);
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
      }
      if (count == 0) {
        min = 0;
      }
      return new DatasetFacts.SplitFacts(
          count,
          List.of(count, 28, 28),
          "uint8",
          max - min,
          List.of(count, 1, 28, 28),
          "float32",
          min / 255.0,
          max / 255.0,
          (max - min) / 255.0,
          java.util.Arrays.stream(counts).boxed().toList());
    }
  }
}
