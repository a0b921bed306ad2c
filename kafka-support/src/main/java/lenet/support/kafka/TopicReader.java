package lenet.support.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a whole topic from the beginning of every partition, as a group-less reader that commits
 * nothing: to its end as of now, until a condition holds, or until a number of records, always
 * within a time bound. {@code read_committed} unless told otherwise (what a reader of the
 * pipeline's transactional outputs should see). The one way tests, tools and the services read a
 * topic through: each reader is configured as the {@link KafkaConnection} says, sized for the
 * pipeline's large records.
 *
 * @param <K> record keys, as its key deserializer makes them
 */
public final class TopicReader<K> {

  private static final Duration POLL = Duration.ofMillis(200);

  private final KafkaConnection kafka;
  private final Deserializer<K> keys;
  private final IsolationLevel isolation;
  private final Duration within;

  private TopicReader(
      KafkaConnection kafka, Deserializer<K> keys, IsolationLevel isolation, Duration within) {
    this.kafka = kafka;
    this.keys = keys;
    this.isolation = isolation;
    this.within = within;
  }

  /** String keys, byte values; {@code read_committed}; within 60 s. */
  public static TopicReader<String> of(KafkaConnection kafka) {
    return new TopicReader<>(
        kafka, new StringDeserializer(), IsolationLevel.READ_COMMITTED, Duration.ofSeconds(60));
  }

  /** Keys as their bytes (keys that need not be text). */
  public TopicReader<byte[]> byteKeys() {
    return new TopicReader<>(kafka, new ByteArrayDeserializer(), isolation, within);
  }

  /** With {@code level}: {@code READ_UNCOMMITTED} also sees records of open or aborted writes. */
  public TopicReader<K> isolation(IsolationLevel level) {
    return new TopicReader<>(kafka, keys, level, within);
  }

  /** Gives up after {@code timeout}. */
  public TopicReader<K> within(Duration timeout) {
    return new TopicReader<>(kafka, keys, isolation, timeout);
  }

  /**
   * Hands every record up to the end of {@code topic} as of now (for a {@code read_committed}
   * reader: the last stable offset) to {@code each}.
   *
   * @return where it stopped: the end offset of each partition (by partition number), taken before
   *     the first record was read
   * @throws IllegalStateException when the end is not reached within the bound
   */
  public SortedMap<Integer, Long> toEnd(String topic, Consumer<ConsumerRecord<K, byte[]>> each) {
    try (KafkaConsumer<K, byte[]> consumer = open(topic)) {
      List<TopicPartition> partitions = new ArrayList<>(consumer.assignment());
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + within.toNanos();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "could not read '" + topic + "' to its end within " + within.toSeconds() + " s");
        }
        for (ConsumerRecord<K, byte[]> r : consumer.poll(POLL)) {
          // A poll may run past the end taken at the start: what came later is not handed on.
          if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
            each.accept(r);
          }
        }
      }
      SortedMap<Integer, Long> stopped = new TreeMap<>();
      end.forEach((tp, offset) -> stopped.put(tp.partition(), offset));
      return stopped;
    }
  }

  /**
   * Every record up to the end of {@code topic} as of now (see {@link #toEnd(String, Consumer)}).
   */
  public List<ConsumerRecord<K, byte[]>> toEnd(String topic) {
    List<ConsumerRecord<K, byte[]>> out = new ArrayList<>();
    toEnd(topic, out::add);
    return out;
  }

  /**
   * Hands records of {@code topic} to {@code each} until {@code done} holds (asked before each
   * poll; one more poll follows, where a record written right after, a duplicate, would show) or
   * the bound passes.
   *
   * @return whether {@code done} held
   */
  public boolean until(
      String topic, Consumer<ConsumerRecord<K, byte[]>> each, BooleanSupplier done) {
    try (KafkaConsumer<K, byte[]> consumer = open(topic)) {
      long deadline = System.nanoTime() + within.toNanos();
      boolean settled = false;
      while (!settled && System.nanoTime() < deadline) {
        settled = done.getAsBoolean();
        consumer.poll(settled ? POLL.multipliedBy(2) : POLL).forEach(each);
      }
      return settled;
    }
  }

  /** The first {@code count} records of {@code topic} in the order read, or fewer at the bound. */
  public List<ConsumerRecord<K, byte[]>> first(String topic, int count) {
    List<ConsumerRecord<K, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<K, byte[]> consumer = open(topic)) {
      long deadline = System.nanoTime() + within.toNanos();
      while (out.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<K, byte[]> r : consumer.poll(POLL)) {
          if (out.size() < count) {
            out.add(r);
          }
        }
      }
    }
    return out;
  }

  /** A consumer assigned to every partition of {@code topic}, at their beginnings. */
  private KafkaConsumer<K, byte[]> open(String topic) {
    Map<String, Object> tuned = new HashMap<>();
    tuned.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    tuned.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation.name().toLowerCase(Locale.ROOT));
    // See KafkaClients.reader: a drained fetch should not wait the default 500 ms.
    tuned.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10);
    tuned.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 2 * KafkaClients.LARGE_RECORD);
    tuned.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 * 1024 * 1024);
    KafkaConsumer<K, byte[]> consumer =
        new KafkaConsumer<>(kafka.consumer(tuned), keys, new ByteArrayDeserializer());
    try {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic, within).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      if (partitions.isEmpty()) {
        throw new IllegalStateException(
            "topic '" + topic + "' does not exist on " + kafka + ": nothing to read");
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      return consumer;
    } catch (RuntimeException e) {
      consumer.close(Duration.ZERO);
      throw e;
    }
  }
}
