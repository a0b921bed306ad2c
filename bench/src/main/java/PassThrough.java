import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * B9's ceiling: the inference service's consume-transform-produce loop with its Kafka settings (a
 * worker per thread, each a group member with its own transactional producer, 256 records a poll,
 * outputs and offsets in one transaction) and a trivial transform instead of decoding and the
 * forward pass: the output is a prediction-sized JSON with the event's key. Runs until killed or
 * {@code SECONDS} pass: {@code java PassThrough BOOTSTRAP IN OUT GROUP WORKERS SECONDS}.
 */
public class PassThrough {

  public static void main(String[] a) throws Exception {
    String bootstrap = a[0];
    String in = a[1];
    String out = a[2];
    String group = a[3];
    int workers = Integer.parseInt(a[4]);
    long deadline = System.nanoTime() + Long.parseLong(a[5]) * 1_000_000_000L;
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      // As digits.images and digits.predictions: three partitions each.
      for (String t : List.of(in, out)) {
        try {
          admin.createTopics(List.of(new NewTopic(t, 3, (short) 1))).all().get();
        } catch (java.util.concurrent.ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
    }
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      int index = w;
      Thread t = new Thread(() -> loop(bootstrap, in, out, group, index, deadline));
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
  }

  static void loop(
      String bootstrap, String in, String out, String group, int index, long deadline) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 256);
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 2);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-passthrough-" + group + "-w" + index);
    p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 15_000);
    try (KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      consumer.subscribe(List.of(in));
      while (System.nanoTime() < deadline) {
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(200));
        if (polled.isEmpty()) {
          continue;
        }
        Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
        producer.beginTransaction();
        for (ConsumerRecord<byte[], byte[]> r : polled) {
          producer.send(new ProducerRecord<>(out, r.key(), output(r.key())));
          next.put(
              new TopicPartition(r.topic(), r.partition()),
              new OffsetAndMetadata(r.offset() + 1, r.leaderEpoch(), ""));
        }
        producer.sendOffsetsToTransaction(next, consumer.groupMetadata());
        producer.commitTransaction();
      }
    }
  }

  /** About the size of a real prediction (id, digit, confidence, ten probabilities, version). */
  static byte[] output(byte[] key) {
    String id = key == null ? "" : new String(key, StandardCharsets.UTF_8);
    return ("{\"id\":\""
            + id
            + "\",\"digit\":0,\"confidence\":0.99,\"probabilities\":[0.99,0.001,0.001,"
            + "0.001,0.001,0.001,0.001,0.001,0.001,0.001],\"modelVersion\":1}")
        .getBytes(StandardCharsets.UTF_8);
  }
}
