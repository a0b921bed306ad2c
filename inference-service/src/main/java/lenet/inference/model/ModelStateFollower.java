package lenet.inference.model;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import lenet.contract.topics.Topic;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.jboss.logging.Logger;

/**
 * Reads the checkpoint and control topics from the beginning on every start, with no consumer
 * group: each replica sees every checkpoint and every decision, so a cold replica finds the model
 * to serve from Kafka alone. The replay up to the end offsets seen at start is registered first and
 * converged once, so forty old checkpoints cost one model load, not forty; only then does the
 * replica report that it has caught up.
 */
public final class ModelStateFollower implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(ModelStateFollower.class);
  private static final Duration RETRY = Duration.ofSeconds(5);

  private final KafkaConnection kafka;
  private final String topic;
  private final String controlTopic;
  private final ModelManager manager;
  private final Thread thread;
  private final CompletableFuture<Void> replayed = new CompletableFuture<>();
  private volatile boolean running = true;
  private volatile KafkaConsumer<byte[], byte[]> consumer;

  public ModelStateFollower(KafkaConnection kafka, ModelManager manager) {
    this.kafka = kafka;
    this.topic = manager.checkpointTopic();
    this.controlTopic = manager.controlTopic();
    this.manager = manager;
    this.thread = new Thread(this::run, "model-state-follower");
    this.thread.setDaemon(true);
  }

  public ModelStateFollower start() {
    thread.start();
    return this;
  }

  /** Completes once the records present at start have been read and applied. */
  public CompletableFuture<Void> replayed() {
    return replayed;
  }

  private void run() {
    while (running) {
      try (KafkaConsumer<byte[], byte[]> c = newConsumer()) {
        consumer = c;
        if (!running) {
          return;
        }
        follow(c);
      } catch (WakeupException e) {
        return; // close() woke the consumer up
      } catch (RuntimeException e) {
        if (!running) {
          return;
        }
        LOG.errorf(
            "Reading '%s' and '%s' on %s failed (%s); retrying in %d s. The serving model is unchanged; "
                + "check that the broker is reachable.",
            topic, controlTopic, kafka, e.toString(), RETRY.toSeconds());
        sleep(RETRY);
      }
    }
  }

  private void follow(KafkaConsumer<byte[], byte[]> c) {
    List<TopicPartition> partitions = new ArrayList<>(awaitPartitions(c, topic));
    partitions.addAll(awaitPartitions(c, controlTopic));
    c.assign(partitions);
    c.seekToBeginning(partitions);
    Map<TopicPartition, Long> end = c.endOffsets(partitions);
    long present = end.values().stream().mapToLong(Long::longValue).sum();
    LOG.infof(
        "Replaying '%s' and '%s' from the beginning (%d records) to find the model to serve",
        topic, controlTopic, present);
    boolean replaying = true;
    long read = 0;
    long t0 = System.nanoTime();
    while (running) {
      ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(500));
      for (ConsumerRecord<byte[], byte[]> r : records) {
        if (r.topic().equals(controlTopic)) {
          manager.control(r);
        } else {
          manager.offer(r);
        }
        read++;
      }
      if (replaying) {
        if (caughtUp(c, end)) {
          replaying = false;
          LOG.infof(
              "Replayed %d model records in %d ms; selecting the model to serve",
              read, (System.nanoTime() - t0) / 1_000_000);
          manager.caughtUp();
          replayed.complete(null);
          if (present == 0) {
            LOG.infof(
                "No checkpoint on '%s' yet: the service waits for the trainer's first one (503 until then)",
                topic);
          }
        }
      } else if (!records.isEmpty()) {
        manager.converge();
      }
    }
  }

  private static boolean caughtUp(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (c.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private List<TopicPartition> awaitPartitions(KafkaConsumer<byte[], byte[]> c, String topic) {
    while (running) {
      var infos = c.partitionsFor(topic, Duration.ofSeconds(10));
      if (infos != null && !infos.isEmpty()) {
        return infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      }
      LOG.warnf(
          "Topic '%s' does not exist yet; waiting for it (every service creates it at start)",
          topic);
      sleep(RETRY);
    }
    throw new WakeupException();
  }

  private KafkaConsumer<byte[], byte[]> newConsumer() {
    return new KafkaConsumer<>(
        kafka.consumer(
            Map.of(
                ConsumerConfig.CLIENT_ID_CONFIG,
                "inference-model-state",
                // No group: every replica reads everything and nothing needs committing.
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                // A checkpoint is ~253 KB; leave room for bigger networks.
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                2 * Topic.LARGE_RECORD,
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG,
                16 * Topic.LARGE_RECORD,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed")),
        new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  /**
   * Sleeps in short steps so that close() never has to interrupt the thread (that breaks the
   * consumer's close).
   */
  private void sleep(Duration d) {
    long until = System.nanoTime() + d.toNanos();
    try {
      while (running && System.nanoTime() < until) {
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  @Override
  public void close() {
    running = false;
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
