package lenet.inference.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.config.InferenceConfig;
import lenet.inference.config.InferenceConfig.Delivery;
import lenet.inference.model.ModelManager;
import lenet.inference.scoring.Scorer;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What one {@link ScoringWorker} decides, on the shared broker with topics of each test's own and
 * the service's real scorer: a new group starts at the beginning, batches hold at most {@code
 * max-poll-records}, outputs and offsets commit together (a second worker of the group answers only
 * what is new), a batch that cannot be written is aborted and read again after a backoff that
 * doubles up to the most, and a batch refused for one record is written one event at a time with a
 * minimal dead letter for the refused answer.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class ScoringWorkerTest {

  @Inject Scorer scorer;
  @Inject InferenceConfig config;
  @Inject ModelManager models;

  private final String id = "scoring-worker-test-" + UUID.randomUUID();
  private final List<Running> running = new ArrayList<>();
  private Topics topics;

  @BeforeEach
  void aModelServes() {
    TestModels.ensureServing(models);
    Map<Topic, String> names = new EnumMap<>(Topic.class);
    for (Topic t : Topic.values()) {
      names.put(t, id + "-" + t.defaultName());
    }
    topics = new Topics(names);
  }

  @AfterEach
  void stopWorkers() throws InterruptedException {
    for (Running r : running) {
      r.stop();
    }
  }

  @Test
  void answersEachEventOnceInBatchesOfAtMostMaxPollRecordsAndASecondWorkerOnlyWhatIsNew()
      throws Exception {
    create(Topic.DIGITS_IMAGES, Map.of());
    create(Topic.DIGITS_PREDICTIONS, Map.of());
    create(Topic.DIGITS_IMAGES_DLQ, Map.of());
    List<String> good = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      for (int i = 0; i < 22; i++) {
        good.add(send(producer, "good-" + i, TestModels.pixelsJson("good-" + i, i)));
      }
      for (int i = 0; i < 3; i++) {
        send(producer, "bad-" + i, "not json " + i);
      }
    }
    Running first = start(settings(10, Duration.ofSeconds(5), Duration.ofSeconds(2)));
    await("25 events answered").atMost(Duration.ofSeconds(60)).until(() -> first.written() == 25);
    assertThat(first.batches).allMatch(n -> n <= 10).hasSizeGreaterThanOrEqualTo(3);
    await("no lag once every event is read")
        .atMost(Duration.ofSeconds(10))
        .until(() -> first.lagGauge() == 0.0);
    first.stop();
    assertThat(first.thread.isAlive()).as("stop() ends the loop").isFalse();
    assertThat(first.registry.find("inference.kafka.lag").gauges())
        .as("a stopped worker's partitions have no lag series")
        .isEmpty();
    assertThat(committed()).as("the group's offset is past every event").isEqualTo(25);

    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      for (int i = 22; i < 27; i++) {
        good.add(send(producer, "good-" + i, TestModels.pixelsJson("good-" + i, i)));
      }
    }
    Running second = start(settings(10, Duration.ofSeconds(5), Duration.ofSeconds(2)));
    await("5 new events answered")
        .atMost(Duration.ofSeconds(60))
        .until(() -> second.written() == 5);

    Map<String, Integer> predictions = countByKey(topics.name(Topic.DIGITS_PREDICTIONS), 27);
    assertThat(predictions.keySet()).containsExactlyInAnyOrderElementsOf(good);
    assertThat(predictions.values()).as("exactly once each").allMatch(n -> n == 1);
    Map<String, Integer> deadLetters = countByKey(topics.name(Topic.DIGITS_IMAGES_DLQ), 3);
    assertThat(deadLetters).containsOnly(entry("bad-0", 1), entry("bad-1", 1), entry("bad-2", 1));
  }

  @Test
  void aBatchRefusedForOneRecordIsWrittenOneEventAtATimeWithAMinimalDeadLetterForIt()
      throws Exception {
    create(Topic.DIGITS_IMAGES, Map.of());
    create(Topic.DIGITS_PREDICTIONS, Map.of());
    // Smaller than the topic table says, so the dead letter of one event (a value of 20,000
    // characters, copied into it) is refused by the broker, not foreseen by ScoringOutputs.
    create(Topic.DIGITS_IMAGES_DLQ, Map.of("max.message.bytes", "3000"));
    List<String> good = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      for (int i = 0; i < 2; i++) {
        good.add(send(producer, "good-" + i, TestModels.pixelsJson("good-" + i, i)));
      }
      send(producer, "big", "not json " + randomText(20_000));
      for (int i = 3; i < 5; i++) {
        good.add(send(producer, "good-" + i, TestModels.pixelsJson("good-" + i, i)));
      }
    }
    Running worker = start(settings(10, Duration.ofSeconds(5), Duration.ofSeconds(2)));
    await("5 events answered").atMost(Duration.ofSeconds(60)).until(() -> worker.written() == 5);

    String predictionsTopic = topics.name(Topic.DIGITS_PREDICTIONS);
    Map<String, Integer> predictions = countByKey(predictionsTopic, 4);
    assertThat(predictions.keySet()).containsExactlyInAnyOrderElementsOf(good);
    assertThat(predictions.values()).as("exactly once each").allMatch(n -> n == 1);
    List<ConsumerRecord<byte[], byte[]>> deadLetters = new ArrayList<>();
    TestModels.readCommitted(
        topics.name(Topic.DIGITS_IMAGES_DLQ),
        deadLetters::add,
        () -> !deadLetters.isEmpty(),
        Duration.ofSeconds(20));
    assertThat(deadLetters).hasSize(1);
    assertThat(new String(deadLetters.get(0).key(), StandardCharsets.UTF_8)).isEqualTo("big");
    assertThat(header(deadLetters.get(0), ScoringOutputs.REASON_HEADER))
        .startsWith(ScoringOutputs.REFUSED);
    assertThat(deadLetters.get(0).value()).as("a minimal dead letter: no value").isNull();
  }

  @Test
  void aBatchRefusedWithoutSayingSoIsWrittenOneEventAtATimeOnItsSecondTry() throws Exception {
    create(Topic.DIGITS_IMAGES, Map.of());
    // Smaller than the topic table says: the prediction of an event with a 3,000-character id is
    // refused by the broker (random text: compression does not shrink it). In a producer batch
    // with others it is split and resent until the delivery timeout, and the transaction fails
    // naming no record.
    create(Topic.DIGITS_PREDICTIONS, Map.of("max.message.bytes", "2000"));
    create(Topic.DIGITS_IMAGES_DLQ, Map.of());
    List<String> good = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      for (int i = 0; i < 2; i++) {
        good.add(send(producer, "good-" + i, TestModels.pixelsJson("good-" + i, i)));
      }
      send(producer, "long-id", TestModels.pixelsJson(randomText(3000), 2));
      for (int i = 3; i < 5; i++) {
        good.add(send(producer, "good-" + i, TestModels.pixelsJson("good-" + i, i)));
      }
    }
    Running worker = start(settings(10, Duration.ofSeconds(2), Duration.ofSeconds(2)));
    await("5 events answered").atMost(Duration.ofSeconds(90)).until(() -> worker.written() == 5);

    Map<String, Integer> predictions = countByKey(topics.name(Topic.DIGITS_PREDICTIONS), 4);
    assertThat(predictions.keySet()).containsExactlyInAnyOrderElementsOf(good);
    assertThat(predictions.values()).as("exactly once each").allMatch(n -> n == 1);
    Map<String, Integer> deadLetters = countByKey(topics.name(Topic.DIGITS_IMAGES_DLQ), 1);
    assertThat(deadLetters).containsOnly(entry("long-id", 1));
  }

  @Test
  void aBatchThatCannotBeWrittenIsAbortedAndReadAgainAfterABackoffThatDoublesUpToTheMost()
      throws Exception {
    create(Topic.DIGITS_IMAGES, Map.of());
    create(Topic.DIGITS_IMAGES_DLQ, Map.of());
    // No predictions topic yet (the broker creates none by itself): every write times out.
    List<String> good = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      for (int i = 0; i < 3; i++) {
        good.add(send(producer, "good-" + i, TestModels.pixelsJson("good-" + i, i)));
      }
    }
    Running worker = start(settings(10, Duration.ofMillis(600), Duration.ofSeconds(2)));
    await("four failed tries").atMost(Duration.ofSeconds(30)).until(() -> worker.aborts() >= 4);
    create(Topic.DIGITS_PREDICTIONS, Map.of());
    await("3 events answered").atMost(Duration.ofSeconds(30)).until(() -> worker.written() == 3);

    List<Long> at = worker.abortedAtMs.subList(0, 4);
    long g1 = at.get(1) - at.get(0);
    long g2 = at.get(2) - at.get(1);
    long g3 = at.get(3) - at.get(2);
    // Each try costs the same beside its backoff (a new producer, a read, a send that times out):
    // the gaps differ by the backoffs, 1 s then 2 s then 2 s (max-backoff), not 4.
    assertThat(g1).as("first backoff: 1 s").isGreaterThanOrEqualTo(1000);
    assertThat(g2 - g1).as("the backoff doubles").isGreaterThanOrEqualTo(500L);
    assertThat(g3 - g2).as("up to max-backoff").isLessThan(1500L);
    Map<String, Integer> predictions = countByKey(topics.name(Topic.DIGITS_PREDICTIONS), 3);
    assertThat(predictions.keySet()).containsExactlyInAnyOrderElementsOf(good);
    assertThat(predictions.values()).as("exactly once each").allMatch(n -> n == 1);
  }

  @Test
  void onlyARecordItselfRefusedIsTakenForARefusal() {
    RecordTooLargeException tooLarge = new RecordTooLargeException("too large");
    InvalidRecordException invalid = new InvalidRecordException("invalid");
    assertThat(ScoringWorker.refusal(new KafkaException("batch", tooLarge))).isSameAs(tooLarge);
    assertThat(ScoringWorker.refusal(new KafkaException(new KafkaException(invalid))))
        .isSameAs(invalid);
    assertThat(ScoringWorker.refusal(new KafkaException(new TimeoutException("broker away"))))
        .isNull();
    assertThat(ScoringWorker.refusal(new ProducerFencedException("fenced"))).isNull();
  }

  private ScoringWorker.Settings settings(
      int maxPollRecords, Duration sendTimeout, Duration maxBackoff) {
    return new ScoringWorker.Settings(
        KafkaConnection.to(SharedKafka.bootstrapServers()),
        topics.name(Topic.DIGITS_IMAGES),
        id,
        Delivery.EXACTLY_ONCE,
        maxPollRecords,
        id,
        Duration.ofSeconds(15),
        sendTimeout,
        maxBackoff);
  }

  /** A worker on its own thread, and what it told its listener. */
  private final class Running implements ScoringWorker.Listener {
    final List<Integer> batches = new CopyOnWriteArrayList<>();
    final List<Long> abortedAtMs = new CopyOnWriteArrayList<>();
    final ConsumerLag lag;
    final SimpleMeterRegistry registry;
    final ScoringWorker worker;
    final Thread thread;

    Running(ScoringWorker.Settings settings) {
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      BatchScorer batchScorer =
          new BatchScorer(
              scorer,
              new ScoringOutputs(
                  topics,
                  registry,
                  RecordLimits.limit(Topic.DIGITS_PREDICTIONS),
                  RecordLimits.limit(Topic.DIGITS_IMAGES_DLQ)),
              config,
              registry);
      lag = new ConsumerLag(registry);
      this.registry = registry;
      worker = new ScoringWorker(running.size(), settings, batchScorer, this, lag);
      thread = new Thread(worker, "scoring-worker-test-" + running.size());
    }

    @Override
    public void written(int worker, int records) {
      batches.add(records);
    }

    @Override
    public void aborted(int worker, int records, Exception cause) {
      abortedAtMs.add(System.nanoTime() / 1_000_000);
    }

    /** inference.kafka.lag of the input topic's partition 0; NaN when it has no series. */
    double lagGauge() {
      io.micrometer.core.instrument.Gauge g =
          registry
              .find("inference.kafka.lag")
              .tag("topic", topics.name(Topic.DIGITS_IMAGES))
              .tag("partition", "0")
              .gauge();
      return g == null ? Double.NaN : g.value();
    }

    int written() {
      return batches.stream().mapToInt(Integer::intValue).sum();
    }

    int aborts() {
      return abortedAtMs.size();
    }

    void stop() throws InterruptedException {
      worker.stop();
      thread.join(TimeUnit.SECONDS.toMillis(15));
    }
  }

  private Running start(ScoringWorker.Settings settings) {
    Running r = new Running(settings);
    running.add(r);
    r.thread.start();
    return r;
  }

  private void create(Topic topic, Map<String, String> extra) throws Exception {
    Map<String, String> configs = new HashMap<>(topic.configs());
    configs.putAll(extra);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topics.name(topic), Optional.of(1), Optional.empty())
                      .configs(configs)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  private String send(KafkaProducer<byte[], byte[]> producer, String key, String json)
      throws Exception {
    producer
        .send(
            new ProducerRecord<>(
                topics.name(Topic.DIGITS_IMAGES),
                key.getBytes(StandardCharsets.UTF_8),
                json.getBytes(StandardCharsets.UTF_8)))
        .get(30, TimeUnit.SECONDS);
    return key;
  }

  /** The group's committed offset on the image topic's partition. */
  private long committed() throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", SharedKafka.bootstrapServers()))) {
      return admin
          .listConsumerGroupOffsets(id)
          .partitionsToOffsetAndMetadata()
          .get(30, TimeUnit.SECONDS)
          .get(new TopicPartition(topics.name(Topic.DIGITS_IMAGES), 0))
          .offset();
    }
  }

  /** Records by key as a {@code read_committed} reader sees them, once {@code expected} came. */
  private static Map<String, Integer> countByKey(String topic, int expected) {
    Map<String, Integer> byKey = new HashMap<>();
    Predicate<Map<String, Integer>> done =
        m -> m.values().stream().mapToInt(Integer::intValue).sum() >= expected;
    TestModels.readCommitted(
        topic,
        r -> byKey.merge(new String(r.key(), StandardCharsets.UTF_8), 1, Integer::sum),
        () -> done.test(byKey),
        Duration.ofSeconds(20));
    return byKey;
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  private static String randomText(int length) {
    Random random = new Random(7);
    StringBuilder s = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      s.append((char) ('a' + random.nextInt(26)));
    }
    return s.toString();
  }
}
