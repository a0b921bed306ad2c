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
import lenet.contract.mnist.MnistFiles;
import lenet.contract.mnist.MnistSet;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.TrainingEvent;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The fault runner's Kafka and HTTP drivers (faults/run), one subcommand each; every one is bounded
 * in time and prints one JSON line.
 *
 * <ul>
 *   <li>{@code send BOOTSTRAP MNIST_DIR TAG N BAD_EVERY}: N image events keyed {@code TAG<i>} (real
 *       test digits; every BAD_EVERY-th malformed, for the dead-letter topic).
 *   <li>{@code await BOOTSTRAP TAG N TIMEOUT_S}: until N distinct events are answered (a prediction
 *       or a dead letter, read_committed), or the timeout.
 *   <li>{@code count BOOTSTRAP TAG N}: answered, lost and duplicated, for read_committed and
 *       read_uncommitted readers.
 *   <li>{@code http-probe URL MNIST_DIR SECONDS}: one HTTP prediction every 100 ms; how many were
 *       answered.
 *   <li>{@code run-check BOOTSTRAP RUN_ID}: the run's events: completed once, epochs in order.
 * </ul>
 */
public class FaultDriver {

  static final String[] OUTPUTS = {"digits.predictions", "digits.images.dlq"};

  public static void main(String[] a) throws Exception {
    switch (a[0]) {
      case "send" -> send(a[1], a[2], a[3], Integer.parseInt(a[4]), Integer.parseInt(a[5]));
      case "await" -> await(a[1], a[2], Integer.parseInt(a[3]), Integer.parseInt(a[4]));
      case "count" -> count(a[1], a[2], Integer.parseInt(a[3]));
      case "http-probe" -> httpProbe(a[1], a[2], Integer.parseInt(a[3]));
      case "run-check" -> runCheck(a[1], a[2]);
      default -> throw new IllegalArgumentException("unknown command " + a[0]);
    }
  }

  static void send(String bootstrap, String mnist, String tag, int n, int badEvery) {
    MnistSet test = new MnistFiles(Path.of(mnist), false).test();
    int bad = 0;
    long t0 = System.nanoTime();
    try (KafkaProducer<String, byte[]> p =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 20),
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
    for (String isolation : new String[] {"read_committed", "read_uncommitted"}) {
      Map<String, Integer> perKey = new HashMap<>();
      try (KafkaConsumer<String, byte[]> c = consumer(bootstrap, isolation)) {
        List<TopicPartition> parts = assignAll(c);
        Map<TopicPartition, Long> end = c.endOffsets(parts);
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))
            && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(300))) {
            if (r.key() != null && r.key().startsWith(tag)) {
              perKey.merge(r.key(), 1, Integer::sum);
            }
          }
        }
      }
      long total = perKey.values().stream().mapToLong(Integer::longValue).sum();
      String k = isolation.equals("read_committed") ? "committed" : "uncommitted";
      out.append(
          String.format(
              "\"%sAnswered\": %d, \"%sLost\": %d, \"%sDuplicated\": %d, ",
              k, perKey.size(), k, n - perKey.size(), k, total - perKey.size()));
    }
    out.setLength(out.length() - 2);
    System.out.println(out.append("}"));
  }

  static void httpProbe(String url, String mnist, int seconds) throws Exception {
    MnistSet test = new MnistFiles(Path.of(mnist), false).test();
    String body = new String(ImageEvent.ofPixels("probe", pixels(test, 0)).encode(), StandardCharsets.UTF_8);
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
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition("training.events", 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long end = c.endOffsets(List.of(tp)).get(tp);
      while (c.position(tp) < end) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(300))) {
          if (runId.equals(r.key())) {
            TrainingEvent e = TrainingEvent.decode(r.value());
            types.add(e.type().name());
            if (e instanceof TrainingEvent.Epoch ep) {
              epochs.add(ep.epoch());
            }
          }
        }
      }
    }
    long completed = types.stream().filter("COMPLETED"::equals).count();
    int lastCompleted = types.lastIndexOf("COMPLETED");
    boolean startedAfter = lastCompleted >= 0 && types.subList(lastCompleted, types.size()).contains("STARTED");
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
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation,
            ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 600_000),
        new StringDeserializer(),
        new ByteArrayDeserializer());
  }

  static List<TopicPartition> assignAll(KafkaConsumer<String, byte[]> c) {
    List<TopicPartition> parts = new ArrayList<>();
    for (String t : OUTPUTS) {
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
