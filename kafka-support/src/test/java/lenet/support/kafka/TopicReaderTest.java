package lenet.support.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import lenet.kafka.SharedKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.junit.jupiter.api.Test;

/** The one topic reader, on the real broker: isolation, stop conditions and its time bound. */
class TopicReaderTest {

  private static KafkaConnection kafka() {
    return KafkaConnection.to(SharedKafka.bootstrapServers());
  }

  /** A fresh topic of {@code partitions} partitions. */
  private static String topic(int partitions) throws Exception {
    String name = "reader-" + UUID.randomUUID();
    try (Admin admin = Admin.create(kafka().admin(Map.of()))) {
      admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
    }
    return name;
  }

  /** Writes {@code committed} in a committed transaction and {@code aborted} in an aborted one. */
  private static void write(String topic, List<String> committed, List<String> aborted) {
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.writer(
            kafka(), Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "reader-test-" + topic))) {
      producer.initTransactions();
      producer.beginTransaction();
      aborted.forEach(k -> producer.send(new ProducerRecord<>(topic, k, k.getBytes())));
      producer.flush();
      producer.abortTransaction();
      producer.beginTransaction();
      committed.forEach(k -> producer.send(new ProducerRecord<>(topic, k, k.getBytes())));
      producer.commitTransaction();
    }
  }

  private static List<String> keys(List<ConsumerRecord<String, byte[]>> records) {
    return records.stream().map(ConsumerRecord::key).sorted().toList();
  }

  @Test
  void readCommittedSkipsAnAbortedWriteAndReadUncommittedSeesIt() throws Exception {
    String topic = topic(3);
    write(topic, List.of("a", "b", "c"), List.of("x", "y"));
    assertThat(keys(TopicReader.of(kafka()).toEnd(topic))).containsExactly("a", "b", "c");
    assertThat(
            keys(TopicReader.of(kafka()).isolation(IsolationLevel.READ_UNCOMMITTED).toEnd(topic)))
        .containsExactly("a", "b", "c", "x", "y");
  }

  @Test
  void readingToTheEndSaysWhereItStopped() throws Exception {
    String topic = topic(2);
    try (KafkaProducer<String, byte[]> producer = KafkaClients.writer(kafka(), Map.of())) {
      for (String k : List.of("a", "b", "c")) {
        producer.send(new ProducerRecord<>(topic, 0, k, k.getBytes())).get();
      }
      producer.send(new ProducerRecord<>(topic, 1, "d", "d".getBytes())).get();
    }
    List<String> seen = new ArrayList<>();
    assertThat(TopicReader.of(kafka()).toEnd(topic, r -> seen.add(r.key())))
        .containsExactly(Map.entry(0, 3L), Map.entry(1, 1L));
    assertThat(seen).containsExactlyInAnyOrder("a", "b", "c", "d");
  }

  @Test
  void readsUntilTheConditionHoldsAndSaysWhetherItDid() throws Exception {
    String topic = topic(2);
    write(topic, List.of("1", "2", "3", "4"), List.of());
    List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
    boolean done = TopicReader.of(kafka()).until(topic, seen::add, () -> seen.size() >= 4);
    assertThat(done).isTrue();
    assertThat(keys(seen)).containsExactly("1", "2", "3", "4");

    List<ConsumerRecord<String, byte[]>> again = new ArrayList<>();
    boolean never =
        TopicReader.of(kafka())
            .within(Duration.ofSeconds(2))
            .until(topic, again::add, () -> again.size() > 4);
    assertThat(never).isFalse();
    assertThat(again).hasSize(4);
  }

  @Test
  void firstStopsAtTheCountOrGivesWhatItHasAtTheBound() throws Exception {
    String topic = topic(1);
    write(topic, List.of("a", "b", "c"), List.of());
    assertThat(keys(TopicReader.of(kafka()).first(topic, 2))).containsExactly("a", "b");
    long t0 = System.nanoTime();
    assertThat(TopicReader.of(kafka()).within(Duration.ofSeconds(2)).first(topic, 10)).hasSize(3);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void keysCanStayBytes() throws Exception {
    String topic = topic(1);
    write(topic, List.of("k"), List.of());
    List<ConsumerRecord<byte[], byte[]>> records =
        TopicReader.of(kafka()).byteKeys().first(topic, 1);
    assertThat(new String(records.get(0).key(), StandardCharsets.UTF_8)).isEqualTo("k");
  }

  @Test
  void aTopicThatDoesNotExistFailsWithinTheBound() {
    TopicReader<String> reader = TopicReader.of(kafka()).within(Duration.ofSeconds(3));
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> reader.toEnd("no-such-topic-" + UUID.randomUUID()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("does not exist");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
  }
}
