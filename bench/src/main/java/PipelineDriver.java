import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topic;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Json;
import lenet.contract.wire.SigningKeys;
import lenet.contract.wire.TrainingEvent;
import lenet.mnist.MnistFiles;
import lenet.model.LeNet5;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The benchmark suite's Kafka and HTTP drivers, one subcommand each; every one is bounded in time
 * and prints one JSON line (bench/run collects them). Run by bench/run as {@code java -cp
 * <classes>:<trainer-service libs> PipelineDriver <command> ...}. MNIST_DIR must hold the original
 * files unless {@code -Dbench.verify-checksums=false}.
 *
 * <ul>
 *   <li>{@code watch-run BOOTSTRAP RUN_ID TIMEOUT_S}: B1/B3, waits for the run's COMPLETED or
 *       FAILED on training.events and prints its epochs.
 *   <li>{@code checkpoint BOOTSTRAP OUT_FILE}: saves the newest LeNet-5 checkpoint of
 *       model.checkpoints.
 *   <li>{@code bodies MNIST_DIR OUT_DIR}: request bodies of real test digits (B4).
 *   <li>{@code score BOOTSTRAP IMAGES_TOPIC PREDICTIONS_TOPIC MNIST_DIR N TAG TIMEOUT_S}: B5,
 *       produces N image events and times until their N predictions are on Kafka.
 *   <li>{@code swaps BOOTSTRAP INFERENCE_URL COUNT INTERVAL_MS}: B6, publishes COUNT checkpoints
 *       (new versions, alternating two real parameter sets) at a fixed interval.
 *   <li>{@code reloads BOOTSTRAP INFERENCE_URL PID COUNT SAMPLES}: B7, publishes COUNT checkpoints
 *       one by one, each once the previous serves, and samples the process's RSS after SAMPLES
 *       (comma-separated counts) reloads.
 *   <li>{@code ingest-peer BOOTSTRAP MNIST_DIR}: B8 peer, the same 70,000 preprocessed images in
 *       250-image records through a plain producer with ingest's settings.
 *   <li>{@code accuracy INFERENCE_URL MNIST_DIR}: B2, the serving model's accuracy on the 10,000
 *       test images, through the Open Inference Protocol.
 *   <li>{@code read-dataset BOOTSTRAP [FETCH_MAX_WAIT_MS]}: B1 profiling, the trainer's dataset
 *       read alone (the contract's DatasetReader with the trainer's consumer settings; Kafka's
 *       default fetch.max.wait.ms is 500), timed per split.
 * </ul>
 */
public class PipelineDriver {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public static void main(String[] args) throws Exception {
    String[] a = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "watch-run" -> watchRun(a[0], a[1], Integer.parseInt(a[2]));
      case "checkpoint" -> saveCheckpoint(a[0], Path.of(a[1]));
      case "bodies" -> bodies(Path.of(a[0]), Path.of(a[1]));
      case "score" ->
          score(
              a[0],
              a[1],
              a[2],
              Path.of(a[3]),
              Integer.parseInt(a[4]),
              a[5],
              Integer.parseInt(a[6]),
              a.length > 7 && a[7].equals("raw"),
              a.length > 7 && a[7].equals("traced"));
      case "swaps" ->
          swaps(a[0], a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]), Long.parseLong(a[4]));
      case "reloads" -> reloads(a[0], a[1], a[2], Integer.parseInt(a[3]), a[4]);
      case "ingest-peer" -> ingestPeer(a[0], Path.of(a[1]));
      case "accuracy" -> accuracy(a[0], Path.of(a[1]));
      case "read-dataset" -> readDataset(a[0], a.length > 1 ? Integer.parseInt(a[1]) : 500);
      default -> throw new IllegalArgumentException("unknown command " + args[0]);
    }
    System.exit(0);
  }

  // ---------------------------------------------------------------- B1 / B3: training events

  static void watchRun(String bootstrap, String runId, int timeoutS) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
    List<TrainingEvent.Epoch> epochs = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = consumer(bootstrap)) {
      TopicPartition tp = new TopicPartition("training.events", 0);
      awaitTopic(c, tp.topic(), deadline);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
          if (!runId.equals(r.key())) {
            continue;
          }
          TrainingEvent e = TrainingEvent.decode(r.value());
          switch (e.type()) {
            case EPOCH -> epochs.add((TrainingEvent.Epoch) e);
            case QUEUED, STARTED -> {}
            case COMPLETED, FAILED, CANCELLED -> {
              Map<String, Object> out = new LinkedHashMap<>();
              out.put("runId", runId);
              out.put("type", e.type().name());
              out.put("epochSeconds", epochs.stream().map(TrainingEvent.Epoch::seconds).toList());
              out.put(
                  "imagesPerSecond",
                  epochs.stream().map(TrainingEvent.Epoch::imagesPerSecond).toList());
              out.put(
                  "devAccuracy", epochs.stream().map(TrainingEvent.Epoch::devAccuracy).toList());
              if (e instanceof TrainingEvent.Completed done) {
                out.put("testAccuracy", done.testAccuracy());
                out.put("modelVersion", done.modelVersion());
                out.put("seconds", done.seconds());
              } else if (e instanceof TrainingEvent.Failed f) {
                out.put("message", f.message());
              } else if (e instanceof TrainingEvent.Cancelled cancelled) {
                out.put("message", cancelled.message());
              }
              print(out);
              return;
            }
          }
        }
      }
    }
    print(Map.of("runId", runId, "type", "TIMEOUT", "epochsSeen", epochs.size()));
  }

  // ---------------------------------------------------------------- checkpoints (B4, B6, B7)

  /** Every LeNet-5 checkpoint on the topic, in order. */
  static List<Checkpoint> checkpoints(String bootstrap) {
    List<Checkpoint> out = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    try (KafkaConsumer<String, byte[]> c = consumer(bootstrap)) {
      List<TopicPartition> tps = awaitTopic(c, "model.checkpoints", deadline);
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
          boolean checkpoint =
              LeNet5.MODEL_NAME.equals(r.key()) || Checkpoint.versionOfKey(r.key()) >= 0;
          if (checkpoint && r.value() != null) {
            out.add(Checkpoint.decode(r.value()));
          }
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("timed out reading model.checkpoints");
        }
      }
    }
    return out;
  }

  static void saveCheckpoint(String bootstrap, Path file) throws Exception {
    List<Checkpoint> all = checkpoints(bootstrap);
    if (all.isEmpty()) {
      print(Map.of("error", "no checkpoint on model.checkpoints"));
      return;
    }
    Checkpoint last = all.get(all.size() - 1);
    Files.write(file, last.encode());
    print(Map.of("version", last.header().modelVersion(), "checkpoints", all.size()));
  }

  /** The last two distinct parameter sets on the topic (one if there is only one). */
  static List<Checkpoint> twoModels(List<Checkpoint> all) {
    List<Checkpoint> out = new ArrayList<>();
    for (int i = all.size() - 1; i >= 0 && out.size() < 2; i--) {
      Checkpoint c = all.get(i);
      if (out.stream().noneMatch(o -> o.header().sha256().equals(c.header().sha256()))) {
        out.add(c);
      }
    }
    return out;
  }

  static long maxVersion(List<Checkpoint> all) {
    return all.stream().mapToLong(c -> c.header().modelVersion()).max().orElse(0);
  }

  /** A copy of {@code base} published as {@code version} (same parameters, same checksum). */
  static byte[] asVersion(Checkpoint base, long version, String runId) {
    Checkpoint.Header nh =
        base.header().toBuilder()
            .modelVersion(version)
            .runId(runId)
            .createdAt(System.currentTimeMillis())
            .build();
    return new Checkpoint(nh, base.parameters()).encode();
  }

  /**
   * A checkpoint record signed with the bench trainer's key ({@code TRAINER_SIGNING_KEY_FILE}), so
   * the inference service under test takes it as the trainer's own.
   */
  static ProducerRecord<String, byte[]> signed(long version, byte[] value) {
    if (signingKeys == null) {
      signingKeys = SigningKeys.loadOrCreate(Path.of(System.getenv("TRAINER_SIGNING_KEY_FILE")));
    }
    return new ProducerRecord<>(
        "model.checkpoints",
        null,
        Checkpoint.key(LeNet5.MODEL_NAME, version),
        value,
        CheckpointSignature.sign(value, signingKeys));
  }

  /** The bench trainer's key, read once. */
  private static KeyPair signingKeys;

  static void swaps(String bootstrap, String url, int count, int intervalMs, long startAtMillis)
      throws Exception {
    List<Checkpoint> all = checkpoints(bootstrap);
    List<Checkpoint> models = twoModels(all);
    long v = maxVersion(all);
    long first = v + 1;
    try (KafkaProducer<String, byte[]> p = producer(bootstrap, Map.of())) {
      p.partitionsFor("model.checkpoints"); // connected before the clock starts
      long lateMs = System.currentTimeMillis() - startAtMillis;
      if (lateMs < 0) {
        Thread.sleep(-lateMs);
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < count; i++) {
        long due = t0 + TimeUnit.MILLISECONDS.toNanos((long) intervalMs * i);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        byte[] value = asVersion(models.get(i % models.size()), ++v, "bench-swap");
        p.send(signed(v, value)).get();
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      boolean served = awaitServing(url, v, 60);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("published", count);
      out.put("firstVersion", first);
      out.put("lastVersion", v);
      out.put("distinctModels", models.size());
      out.put("lastServed", served);
      out.put("startedLateMs", Math.max(0, lateMs));
      out.put("seconds", seconds);
      print(out);
    }
  }

  static void reloads(String bootstrap, String url, String pid, int count, String samples)
      throws Exception {
    List<Integer> at =
        Arrays.stream(samples.split(",")).map(String::trim).map(Integer::valueOf).toList();
    List<Checkpoint> all = checkpoints(bootstrap);
    List<Checkpoint> models = twoModels(all);
    long v = maxVersion(all);
    List<Map<String, Object>> rss = new ArrayList<>();
    double[] reloadMs = new double[count];
    long t0 = System.nanoTime();
    try (KafkaProducer<String, byte[]> p = producer(bootstrap, Map.of())) {
      for (int i = 1; i <= count; i++) {
        long ts = System.nanoTime();
        byte[] value = asVersion(models.get(i % models.size()), ++v, "bench-reload");
        p.send(signed(v, value)).get();
        if (!awaitServing(url, v, 60)) {
          print(
              Map.of(
                  "error", "v" + v + " did not serve within 60 s", "reloads", i - 1, "rss", rss));
          return;
        }
        reloadMs[i - 1] = (System.nanoTime() - ts) / 1e6;
        if (at.contains(i)) {
          Map<String, Object> s = new LinkedHashMap<>();
          s.put("reloads", i);
          Thread.sleep(500);
          s.put("rssMb", rssMb(pid));
          new ProcessBuilder("jcmd", pid, "GC.run")
              .redirectErrorStream(true)
              .start()
              .waitFor(30, TimeUnit.SECONDS);
          Thread.sleep(1500);
          s.put("rssAfterGcMb", rssMb(pid));
          rss.add(s);
        }
      }
    }
    Arrays.sort(reloadMs);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("reloads", count);
    out.put("distinctModels", models.size());
    out.put("reloadMsMedian", reloadMs[count / 2]);
    out.put("reloadMsMax", reloadMs[count - 1]);
    out.put("seconds", (System.nanoTime() - t0) / 1e9);
    out.put("rss", rss);
    print(out);
  }

  static double rssMb(String pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return Double.NaN;
  }

  /** Polls the OIP metadata until {@code version} serves. */
  static boolean awaitServing(String url, long version, int timeoutS) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
    String want = String.valueOf(version);
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<byte[]> r =
            HTTP.send(
                HttpRequest.newBuilder(URI.create(url + "/v2/models/lenet5"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 200) {
          JsonNode versions = Json.MAPPER.readTree(r.body()).path("versions");
          for (JsonNode n : versions) {
            if (want.equals(n.asText())) {
              return true;
            }
          }
        }
      } catch (java.io.IOException e) {
        // not up yet
      }
      Thread.sleep(10);
    }
    return false;
  }

  // ---------------------------------------------------------------- B4: request bodies

  static void bodies(Path mnist, Path out) throws Exception {
    MnistSet test = mnistFiles(mnist).test();
    Files.createDirectories(out);
    Files.writeString(out.resolve("predict.json"), "{\"pixels\":" + pixels(test, 0) + "}");
    StringJoiner data = new StringJoiner(",", "[", "]");
    for (int i = 0; i < 256; i++) {
      String p = pixels(test, i);
      data.add(p.substring(1, p.length() - 1));
    }
    Files.writeString(
        out.resolve("oip256.json"),
        "{\"id\":\"bench\",\"inputs\":[{\"name\":\"images\",\"datatype\":\"UINT8\",\"shape\":[256,28,28],"
            + "\"data\":"
            + data
            + "}]}");
    print(
        Map.of(
            "predictBytes",
            Files.size(out.resolve("predict.json")),
            "oipBytes",
            Files.size(out.resolve("oip256.json"))));
  }

  static String pixels(MnistSet set, int i) {
    StringJoiner j = new StringJoiner(",", "[", "]");
    for (int p = 0; p < MnistSet.IMAGE_BYTES; p++) {
      j.add(Integer.toString(set.pixel(i, p)));
    }
    return j.toString();
  }

  // ---------------------------------------------------------------- B5: Kafka scoring

  static void score(
      String bootstrap,
      String imagesTopic,
      String predictionsTopic,
      Path mnist,
      int n,
      String tag,
      int timeoutS,
      boolean raw,
      boolean traced)
      throws Exception {
    MnistSet test = mnistFiles(mnist).test();
    String[] pix = new String[test.count()];
    byte[][] rawPix = new byte[test.count()][];
    for (int i = 0; i < pix.length; i++) {
      pix[i] = pixels(test, i);
      rawPix[i] = new byte[MnistSet.IMAGE_BYTES];
      for (int k = 0; k < MnistSet.IMAGE_BYTES; k++) {
        rawPix[i][k] = (byte) test.pixel(i, k);
      }
    }
    org.apache.kafka.common.header.internals.RecordHeaders rawHeaders =
        new org.apache.kafka.common.header.internals.RecordHeaders();
    rawHeaders.add(
        ImageEvent.CONTENT_TYPE_HEADER,
        ImageEvent.RAW_CONTENT_TYPE.getBytes(StandardCharsets.UTF_8));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
    String prefix = tag + "-";
    BitSet seen = new BitSet(n);
    long[] lastAt = {0};
    try (KafkaConsumer<String, byte[]> c = consumer(bootstrap)) {
      List<TopicPartition> tps = awaitTopic(c, predictionsTopic, deadline);
      c.assign(tps);
      c.seekToEnd(tps);
      tps.forEach(c::position); // resolve the end offsets before anything is produced
      Thread consumerThread = null;
      long t0;
      double produceSeconds;
      int[] received = {0};
      Object lock = new Object();
      try (KafkaProducer<String, byte[]> p =
          producer(
              bootstrap,
              Map.of(
                  ProducerConfig.LINGER_MS_CONFIG,
                  5,
                  ProducerConfig.BATCH_SIZE_CONFIG,
                  256 * 1024,
                  ProducerConfig.COMPRESSION_TYPE_CONFIG,
                  "lz4"))) {
        consumerThread =
            new Thread(
                () -> {
                  while (System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
                      String k = r.key();
                      if (k != null && k.startsWith(prefix)) {
                        int i = Integer.parseInt(k.substring(prefix.length()));
                        synchronized (lock) {
                          if (i < n && !seen.get(i)) {
                            seen.set(i);
                            received[0]++;
                            lastAt[0] = System.nanoTime();
                          }
                        }
                      }
                    }
                    synchronized (lock) {
                      if (received[0] >= n) {
                        return;
                      }
                    }
                  }
                },
                "predictions");
        t0 = System.nanoTime();
        consumerThread.start();
        for (int i = 0; i < n; i++) {
          String id = prefix + i;
          if (raw) { // the binary form: 784 bytes, the id in the key
            p.send(
                new ProducerRecord<>(imagesTopic, null, id, rawPix[i % rawPix.length], rawHeaders));
            continue;
          }
          byte[] value =
              ("{\"id\":\"" + id + "\",\"pixels\":" + pix[i % pix.length] + "}")
                  .getBytes(StandardCharsets.UTF_8);
          if (traced) { // JSON, each event in a trace of its own (a W3C traceparent header)
            java.util.concurrent.ThreadLocalRandom rnd =
                java.util.concurrent.ThreadLocalRandom.current();
            String traceparent =
                String.format(
                    "00-%016x%016x-%016x-01", rnd.nextLong(), rnd.nextLong(), rnd.nextLong());
            p.send(
                new ProducerRecord<>(
                    imagesTopic,
                    null,
                    id,
                    value,
                    List.of(
                        new org.apache.kafka.common.header.internals.RecordHeader(
                            "traceparent", traceparent.getBytes(StandardCharsets.UTF_8)))));
            continue;
          }
          p.send(new ProducerRecord<>(imagesTopic, id, value));
        }
        p.flush();
        produceSeconds = (System.nanoTime() - t0) / 1e9;
      }
      consumerThread.join(
          Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) + 1000));
      int got;
      long last;
      synchronized (lock) {
        got = received[0];
        last = lastAt[0];
      }
      double seconds = ((got > 0 ? last : System.nanoTime()) - t0) / 1e9;
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("images", n);
      out.put("received", got);
      out.put("complete", got == n);
      out.put("seconds", seconds);
      out.put("imagesPerSecond", got / seconds);
      out.put("produceSeconds", produceSeconds);
      print(out);
    }
  }

  // ---------------------------------------------------------------- B8 peer

  static void ingestPeer(String bootstrap, Path mnist) throws Exception {
    MnistFiles files = mnistFiles(mnist);
    MnistSet train = files.train();
    MnistSet test = files.test();
    String topic = "bench.ingest.peer";
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, Optional.of(1), Optional.empty())
                      .configs(Topic.MNIST_TRAIN.configs())))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw e;
      }
    }
    // The same payload bytes, prepared before the clock starts: 250 images of float32 / 255 each.
    List<byte[]> records = new ArrayList<>();
    for (MnistSet set : List.of(train, test)) {
      for (int s = 0; s < set.count(); s += 250) {
        int k = Math.min(250, set.count() - s);
        ByteBuffer b = ByteBuffer.allocate(k * MnistSet.IMAGE_BYTES * 4 + k);
        for (int i = 0; i < k; i++) {
          for (int p = 0; p < MnistSet.IMAGE_BYTES; p++) {
            b.putFloat(set.pixel(s + i, p) / 255f);
          }
        }
        for (int i = 0; i < k; i++) {
          b.put(set.labels()[s + i]);
        }
        records.add(b.array());
      }
    }
    long bytes = records.stream().mapToLong(r -> r.length).sum();
    long t0 = System.nanoTime();
    try (KafkaProducer<String, byte[]> p =
        producer(
            bootstrap,
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
                128L * 1024 * 1024))) {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (int i = 0; i < records.size(); i++) {
        sent.add(p.send(new ProducerRecord<>(topic, "peer/" + i, records.get(i))));
      }
      for (Future<RecordMetadata> f : sent) {
        f.get(120, TimeUnit.SECONDS);
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    print(
        Map.of(
            "images",
            train.count() + test.count(),
            "records",
            records.size(),
            "megabytes",
            bytes / 1e6,
            "seconds",
            seconds,
            "imagesPerSecond",
            (train.count() + test.count()) / seconds));
  }

  // ---------------------------------------------------------------- B2: served accuracy

  static void accuracy(String url, Path mnist) throws Exception {
    MnistSet test = mnistFiles(mnist).test();
    int correct = 0;
    String version = null;
    for (int s = 0; s < test.count(); s += 256) {
      int k = Math.min(256, test.count() - s);
      StringJoiner data = new StringJoiner(",", "[", "]");
      for (int i = 0; i < k; i++) {
        String p = pixels(test, s + i);
        data.add(p.substring(1, p.length() - 1));
      }
      String body =
          "{\"inputs\":[{\"name\":\"images\",\"datatype\":\"UINT8\",\"shape\":["
              + k
              + ",28,28],\"data\":"
              + data
              + "}]}";
      HttpResponse<byte[]> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url + "/v2/models/lenet5/infer"))
                  .header("Content-Type", "application/json")
                  .timeout(Duration.ofSeconds(30))
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() != 200) {
        print(Map.of("error", "HTTP " + r.statusCode(), "version", String.valueOf(version)));
        return;
      }
      JsonNode json = Json.MAPPER.readTree(r.body());
      String v = json.path("model_version").asText();
      if (version != null && !version.equals(v)) {
        print(Map.of("error", "the model changed while scoring", "version", v));
        return;
      }
      version = v;
      JsonNode out = json.path("outputs").get(0).path("data");
      for (int i = 0; i < k; i++) {
        int best = 0;
        for (int d = 1; d < 10; d++) {
          if (out.get(i * 10 + d).floatValue() > out.get(i * 10 + best).floatValue()) {
            best = d;
          }
        }
        if (best == test.labels()[s + i]) {
          correct++;
        }
      }
    }
    print(Map.of("version", version, "accuracy", correct / (double) test.count()));
  }

  // ---------------------------------------------------------------- B1: the dataset read alone

  static void readDataset(String bootstrap, int fetchMaxWaitMs) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("fetchMaxWaitMs", fetchMaxWaitMs);
    long t0 = System.nanoTime();
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                Topic.LARGE_RECORD,
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG,
                64 * 1024 * 1024,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                fetchMaxWaitMs),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      lenet.contract.dataset.DatasetReader reader =
          new lenet.contract.dataset.DatasetReader(c, lenet.contract.topics.Topics.defaults());
      lenet.contract.wire.DatasetManifest m =
          reader.latestManifest(lenet.contract.dataset.DatasetWriter.DATASET_NAME).orElseThrow();
      out.put("manifestSeconds", (System.nanoTime() - t0) / 1e9);
      for (lenet.contract.wire.DatasetBatch.Split split :
          lenet.contract.wire.DatasetBatch.Split.values()) {
        long ts = System.nanoTime();
        int n = reader.read(m, split).count();
        out.put(split.name().toLowerCase() + "Images", n);
        out.put(split.name().toLowerCase() + "Seconds", (System.nanoTime() - ts) / 1e9);
      }
    }
    out.put("seconds", (System.nanoTime() - t0) / 1e9);
    print(out);
  }

  // ---------------------------------------------------------------- helpers

  /**
   * The IDX files in {@code dir}, checked against the original MNIST's SHA-256 unless {@code
   * -Dbench.verify-checksums=false} (the drivers' own test runs them on a few hundred images).
   */
  static MnistFiles mnistFiles(Path dir) {
    return new MnistFiles(
        dir, Boolean.parseBoolean(System.getProperty("bench.verify-checksums", "true")));
  }

  static KafkaConsumer<String, byte[]> consumer(String bootstrap) {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false,
            ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
            2 * Topic.LARGE_RECORD,
            ConsumerConfig.FETCH_MAX_BYTES_CONFIG,
            64 * 1024 * 1024),
        new StringDeserializer(),
        new ByteArrayDeserializer());
  }

  static KafkaProducer<String, byte[]> producer(String bootstrap, Map<String, Object> settings) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topic.LARGE_RECORD);
    config.putAll(settings);
    return new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
  }

  static List<TopicPartition> awaitTopic(KafkaConsumer<?, ?> c, String topic, long deadline) {
    while (System.nanoTime() < deadline) {
      List<PartitionInfo> infos;
      try {
        infos = c.partitionsFor(topic, Duration.ofSeconds(5));
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        infos = null; // the client's answer while the topic does not exist yet: wait on
      }
      if (infos != null && !infos.isEmpty()) {
        return infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new IllegalStateException("topic " + topic + " does not exist");
  }

  static void print(Object value) {
    System.out.println(new String(Json.write(value), StandardCharsets.UTF_8));
  }
}
