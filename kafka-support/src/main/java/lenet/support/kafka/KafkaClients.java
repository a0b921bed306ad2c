package lenet.support.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Plain Kafka clients for what a messaging channel does not fit: reading a topic range or a state
 * topic from the start, and writing records whose offsets matter. Sized for the pipeline's large
 * records (dataset batches, checkpoints); connected as the {@link KafkaConnection} says (security
 * included).
 */
public final class KafkaClients {

  /**
   * 4 MiB, the largest record a pipeline client sends or fetches in one piece; the pipeline's
   * topics take records of this size ({@code LARGE_RECORD} in the contract is this value).
   */
  public static final int LARGE_RECORD = 4 * 1024 * 1024;

  private KafkaClients() {}

  /**
   * A group-less consumer for {@code assign}/{@code seek} reads: it never commits and never joins a
   * group.
   */
  public static KafkaConsumer<String, byte[]> reader(KafkaConnection kafka) {
    return new KafkaConsumer<>(
        kafka.consumer(
            Map.of(
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                // Only committed transactions: scoring writes its outputs in transactions, and an
                // aborted batch must not be seen.
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                // A range read moves from topic to topic; waiting the default 500 ms on each
                // drained
                // fetch doubled
                // the trainer's dataset read (measured 2.25 s -> 1.05 s).
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                10,
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                LARGE_RECORD,
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG,
                64 * 1024 * 1024)),
        new StringDeserializer(),
        new ByteArrayDeserializer());
  }

  /**
   * Reads {@code topic} from the beginning of each partition to its end as of now (for these
   * read_committed readers: the last stable offset), handing each record to {@code each}: a {@link
   * TopicReader} that gives up after ten minutes.
   */
  public static void readToEnd(
      KafkaConnection kafka, String topic, Consumer<ConsumerRecord<String, byte[]>> each) {
    TopicReader.of(kafka).within(Duration.ofMinutes(10)).toEnd(topic, each);
  }

  /**
   * A producer that accepts the pipeline's large records and is answered once every in-sync replica
   * holds a record ({@code acks=all}: with {@code min.insync.replicas} 2 of 3, an acknowledged
   * write survives the loss of any one broker); {@code settings} add to or override the defaults.
   */
  public static KafkaProducer<String, byte[]> writer(
      KafkaConnection kafka, Map<String, Object> settings) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, LARGE_RECORD);
    config.putAll(settings);
    return new KafkaProducer<>(
        kafka.producer(config), new StringSerializer(), new ByteArraySerializer());
  }

  /**
   * A writer for records that decide something (model control, version claims): a {@link #writer}
   * that is never duplicated by a retry (idempotence); {@code settings} add to or override that.
   */
  public static KafkaProducer<String, byte[]> durableWriter(
      KafkaConnection kafka, String clientId, Map<String, Object> settings) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    config.putAll(settings);
    return writer(kafka, config);
  }

  /**
   * Writes one record and waits for the broker's acknowledgement.
   *
   * @return where it landed (its offset)
   * @throws IllegalStateException naming the key and topic when it is not acknowledged within
   *     {@code timeout}
   */
  public static RecordMetadata acknowledged(
      Producer<String, byte[]> producer, ProducerRecord<String, byte[]> record, Duration timeout) {
    try {
      return producer.send(record).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while writing to " + record.topic(), e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "could not write "
              + record.key()
              + " to '"
              + record.topic()
              + "' ("
              + (e.getCause() == null ? e : e.getCause())
              + "); is the broker reachable?",
          e);
    }
  }
}
