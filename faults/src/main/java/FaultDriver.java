import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import lenet.contract.dataset.MnistSet;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.TrainingEvent;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The fault runner's Kafka and HTTP drivers (faults/run), one subcommand each; every one is bounded
 * in time and prints one JSON line.
 *
 * <ul>
 *   <li>{@code send BOOTSTRAP MNIST_DIR TAG N BAD_EVERY [RATE]}: N image events keyed {@code
 *       TAG<i>} (real test digits; every BAD_EVERY-th malformed, for the dead-letter topic), RATE
 *       per second (0 or absent: as fast as the producer goes).
 *   <li>{@code await BOOTSTRAP TAG N TIMEOUT_S}: until N distinct events are answered (a prediction
 *       or a dead letter, read_committed), or the timeout.
 *   <li>{@code count BOOTSTRAP TAG N}: answered, lost and duplicated, for read_committed and
 *       read_uncommitted readers; how long events waited for their answer (median, p99, longest:
 *       the first committed output's timestamp minus the event's); the longest time without any
 *       answer (the scoring stall).
 *   <li>{@code http-probe URL MNIST_DIR SECONDS}: one HTTP prediction every 100 ms; how many were
 *       answered.
 *   <li>{@code run-check BOOTSTRAP RUN_ID}: the run's events: completed once, epochs in order.
 *   <li>{@code checkpoints BOOTSTRAP RUN_ID}: the run's checkpoints on {@code model.checkpoints}:
 *       which epochs, how many records each.
 *   <li>{@code leader BOOTSTRAP TOPIC PARTITION}, {@code controller BOOTSTRAP}: the node that leads
 *       a partition, or the controller quorum, now (a number).
 *   <li>{@code await-in-sync BOOTSTRAP TIMEOUT_S}: until every partition of every topic has all its
 *       replicas in sync (what Strimzi waits for before it rolls the next broker).
 *   <li>{@code model-status URL RUN_ID}: the status of the run's last checkpoint in the inference
 *       service's view ({@code GET URL/api/models}): CHAMPION, SHADOW, REJECTED, ...
 * </ul>
 */
public class FaultDriver {

  static final String[] OUTPUTS = {"digits.predictions", "digits.images.dlq"};

  public static void main(String[] a) throws Exception {
    switch (a[0]) {
      case "send" ->
          send(
              a[1],
              a[2],
              a[3],
              Integer.parseInt(a[4]),
              Integer.parseInt(a[5]),
              a.length > 6 ? Integer.parseInt(a[6]) : 0);
      case "await" -> await(a[1], a[2], Integer.parseInt(a[3]), Integer.parseInt(a[4]));
      case "count" -> count(a[1], a[2], Integer.parseInt(a[3]));
      case "http-probe" -> httpProbe(a[1], a[2], Integer.parseInt(a[3]));
      case "run-check" -> runCheck(a[1], a[2]);
      case "checkpoints" -> checkpoints(a[1], a[2]);
      case "leader" -> leader(a[1], a[2], Integer.parseInt(a[3]));
      case "controller" -> controller(a[1]);
      case "await-in-sync" -> awaitInSync(a[1], Integer.parseInt(a[2]));
      case "model-status" -> modelStatus(a[1], a[2]);
      default -> throw new IllegalArgumentException("unknown command " + a[0]);
    }
  }

  static void send(String bootstrap, String mnist, String tag, int n, int badEvery, int rate) {
    MnistSet test = new MnistFiles(Path.of(mnist), false).test();
    int bad = 0;
    long t0 = System.nanoTime();
    try (KafkaProducer<String, byte[]> p =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.LINGER_MS_CONFIG,
                20),
            new StringSerializer(),
            new ByteArraySerializer())) {
      for (int i = 0; i < n; i++) {
        byte[] value;
        if (badEvery > 0 && i % badEvery == badEvery - 1) {
          value = "{\"pixels\": [1, 2".getBytes(StandardCharsets.UTF_8);
          bad++;
        } else {
          value = ImageEvent.ofPixels(null, pixels(test, i % test.count())).encode();
        }
        p.send(new ProducerRecord<>("digits.images", tag + i, value));
        if (rate > 0) {
          long due = t0 + (long) ((i + 1) * 1e9 / rate);
          long wait = due - System.nanoTime();
          if (wait > 0) {
            sleep(wait / 1_000_000);
          }
        }
      }
      p.flush();
    }
    System.out.printf(
        "{\"sent\": %d, \"bad\": %d, \"seconds\": %.1f}%n", n, bad, (System.nanoTime() - t0) / 1e9);
  }

  static void await(String bootstrap, String tag, int n, int timeoutS) {
    long t0 = System.nanoTime();
    long deadline = t0 + timeoutS * 1_000_000_000L;
    Set<String> answered = new HashSet<>();
    try (KafkaConsumer<String, byte[]> c = consumer(bootstrap, "read_committed")) {
      assignAll(c);
      while (answered.size() < n && System.nanoTime() < deadline) {
        try {
          for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
            if (r.key() != null && r.key().startsWith(tag)) {
              answered.add(r.key());
            }
          }
        } catch (RuntimeException e) {
          sleep(1000); // the broker is away: keep waiting
        }
      }
    }
    System.out.printf(
        "{\"answered\": %d, \"seconds\": %.1f, \"complete\": %b}%n",
        answered.size(), (System.nanoTime() - t0) / 1e9, answered.size() >= n);
  }

  static void count(String bootstrap, String tag, int n) {
    StringBuilder out = new StringBuilder("{");
    Map<String, Long> answeredAt = new HashMap<>();
    for (String isolation : new String[] {"read_committed", "read_uncommitted"}) {
      Map<String, Integer> perKey = new HashMap<>();
      boolean committed = isolation.equals("read_committed");
      try (KafkaConsumer<String, byte[]> c = consumer(bootstrap, isolation)) {
        readAll(
            c,
            assignAll(c, OUTPUTS),
            r -> {
              if (r.key() != null && r.key().startsWith(tag)) {
                perKey.merge(r.key(), 1, Integer::sum);
                if (committed) {
                  answeredAt.merge(r.key(), r.timestamp(), Math::min);
                }
              }
            });
      }
      long total = perKey.values().stream().mapToLong(Integer::longValue).sum();
      String k = committed ? "committed" : "uncommitted";
      out.append(
          String.format(
              "\"%sAnswered\": %d, \"%sLost\": %d, \"%sDuplicated\": %d, ",
              k, perKey.size(), k, n - perKey.size(), k, total - perKey.size()));
    }
    List<Long> waits = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = consumer(bootstrap, "read_committed")) {
      readAll(
          c,
          assignAll(c, new String[] {"digits.images"}),
          r -> {
            Long at = r.key() == null ? null : answeredAt.get(r.key());
            if (at != null) {
              waits.add(at - r.timestamp());
            }
          });
    }
    waits.sort(null);
    // The longest time in which no event got its answer (while some waited): the scoring stall.
    List<Long> times = new ArrayList<>(answeredAt.values());
    times.sort(null);
    long gap = 0;
    for (int i = 1; i < times.size(); i++) {
      gap = Math.max(gap, times.get(i) - times.get(i - 1));
    }
    out.append(
        String.format(
            "\"waitMedianS\": %.2f, \"waitP99S\": %.2f, \"waitLongestS\": %.2f,"
                + " \"longestGapS\": %.2f",
            quantile(waits, 0.5), quantile(waits, 0.99), quantile(waits, 1.0), gap / 1000.0));
    System.out.println(out.append("}"));
  }

  static double quantile(List<Long> sortedMillis, double q) {
    if (sortedMillis.isEmpty()) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(q * sortedMillis.size()) - 1;
    return sortedMillis.get(Math.max(0, Math.min(i, sortedMillis.size() - 1))) / 1000.0;
  }

  static void readAll(
      KafkaConsumer<String, byte[]> c,
      List<TopicPartition> parts,
      java.util.function.Consumer<ConsumerRecord<String, byte[]>> each) {
    Map<TopicPartition, Long> end = c.endOffsets(parts);
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))
        && System.nanoTime() < deadline) {
      c.poll(Duration.ofMillis(300)).forEach(each);
    }
  }

  static void checkpoints(String bootstrap, String runId) {
    Map<Integer, Integer> perEpoch = new java.util.TreeMap<>();
    int[] epochs = {0};
    KafkaClients.readToEnd(
        KafkaConnection.to(bootstrap),
        "model.checkpoints",
        r -> {
          if (r.value() == null || Checkpoint.versionOfKey(r.key()) < 0) {
            return; // a tombstone or a version claim
          }
          try {
            Checkpoint.Header h = Checkpoint.decode(r.value()).header();
            if (runId.equals(h.runId())) {
              perEpoch.merge(h.epoch(), 1, Integer::sum);
              epochs[0] = h.epochs();
            }
          } catch (RuntimeException e) {
            // not a checkpoint this driver can read
          }
        });
    boolean all =
        epochs[0] > 0
            && perEpoch.size() == epochs[0]
            && perEpoch.values().stream().allMatch(v -> v == 1);
    System.out.printf(
        "{\"checkpointEpochs\": %d, \"runEpochs\": %d, \"everyEpochOnce\": %b}%n",
        perEpoch.size(), epochs[0], all);
  }

  static void leader(String bootstrap, String topic, int partition) throws Exception {
    try (Admin admin = admin(bootstrap)) {
      var leader =
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get()
              .get(topic)
              .partitions()
              .get(partition)
              .leader();
      System.out.println(leader == null ? -1 : leader.id());
    }
  }

  static void controller(String bootstrap) throws Exception {
    try (Admin admin = admin(bootstrap)) {
      System.out.println(admin.describeMetadataQuorum().quorumInfo().get().leaderId());
    }
  }

  static void awaitInSync(String bootstrap, int timeoutS) {
    long t0 = System.nanoTime();
    boolean inSync = false;
    try (Admin admin = admin(bootstrap)) {
      while (!inSync && System.nanoTime() - t0 < timeoutS * 1_000_000_000L) {
        try {
          var names = admin.listTopics().names().get();
          inSync =
              admin.describeTopics(names).allTopicNames().get().values().stream()
                  .flatMap(d -> d.partitions().stream())
                  .allMatch(p -> p.isr().size() == p.replicas().size());
        } catch (Exception e) {
          inSync = false;
        }
        if (!inSync) {
          sleep(500);
        }
      }
    }
    System.out.printf(
        "{\"inSync\": %b, \"seconds\": %.1f}%n", inSync, (System.nanoTime() - t0) / 1e9);
  }

  static void modelStatus(String url, String runId) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String body =
        http.send(
                HttpRequest.newBuilder(URI.create(url + "/api/models")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    var versions = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).get("versions");
    String status = "ABSENT";
    long version = -1;
    for (var v : versions) {
      if (runId.equals(v.path("runId").asText())
          && v.path("epoch").asInt() == v.path("epochs").asInt()) {
        status = v.path("status").asText();
        version = v.path("version").asLong();
      }
    }
    System.out.printf("{\"modelVersion\": %d, \"modelStatus\": \"%s\"}%n", version, status);
  }

  static Admin admin(String bootstrap) {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            60_000));
  }

  static void httpProbe(String url, String mnist, int seconds) throws Exception {
    MnistSet test = new MnistFiles(Path.of(mnist), false).test();
    String body =
        new String(ImageEvent.ofPixels("probe", pixels(test, 0)).encode(), StandardCharsets.UTF_8);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    int ok = 0;
    int failed = 0;
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(2))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          ok++;
        } else {
          failed++;
        }
      } catch (Exception e) {
        failed++;
      }
      sleep(100);
    }
    System.out.printf("{\"httpOk\": %d, \"httpFailed\": %d}%n", ok, failed);
  }

  static void runCheck(String bootstrap, String runId) {
    List<String> types = new ArrayList<>();
    List<Integer> epochs = new ArrayList<>();
    KafkaClients.readToEnd(
        KafkaConnection.to(bootstrap),
        "training.events",
        r -> {
          if (runId.equals(r.key())) {
            TrainingEvent e = TrainingEvent.decode(r.value());
            types.add(e.type().name());
            if (e instanceof TrainingEvent.Epoch ep) {
              epochs.add(ep.epoch());
            }
          }
        });
    long completed = types.stream().filter("COMPLETED"::equals).count();
    int lastCompleted = types.lastIndexOf("COMPLETED");
    boolean startedAfter =
        lastCompleted >= 0 && types.subList(lastCompleted, types.size()).contains("STARTED");
    boolean inOrder = true;
    for (int i = 1; i < epochs.size(); i++) {
      inOrder &= epochs.get(i) == epochs.get(i - 1) + 1;
    }
    System.out.printf(
        "{\"runEvents\": \"%s\", \"runCompletedOnce\": %b, \"runEpochsInOrder\": %b}%n",
        String.join(" ", types), completed == 1 && !startedAfter, inOrder && !epochs.isEmpty());
  }

  static KafkaConsumer<String, byte[]> consumer(String bootstrap, String isolation) {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            isolation,
            ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            600_000),
        new StringDeserializer(),
        new ByteArrayDeserializer());
  }

  static List<TopicPartition> assignAll(KafkaConsumer<String, byte[]> c) {
    return assignAll(c, OUTPUTS);
  }

  static List<TopicPartition> assignAll(KafkaConsumer<String, byte[]> c, String[] topics) {
    List<TopicPartition> parts = new ArrayList<>();
    for (String t : topics) {
      c.partitionsFor(t).forEach(p -> parts.add(new TopicPartition(t, p.partition())));
    }
    c.assign(parts);
    c.seekToBeginning(parts);
    return parts;
  }

  static int[] pixels(MnistSet set, int i) {
    int[] p = new int[784];
    for (int k = 0; k < 784; k++) {
      p[k] = set.pixel(i, k);
    }
    return p;
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
