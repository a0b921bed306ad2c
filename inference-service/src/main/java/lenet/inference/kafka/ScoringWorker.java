package lenet.inference.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import lenet.contract.topics.Topic;
import lenet.inference.config.InferenceConfig.Delivery;
import lenet.support.kafka.Backoff;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.LogTruncationException;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jboss.logging.Logger;

/**
 * One scoring worker: its own consumer in the group and its own producer, in a loop of poll, score,
 * write. Exactly-once: a batch's outputs and its consumed offsets go in one transaction
 * (consume-transform-produce; {@code sendOffsetsToTransaction} with the consumer's group metadata,
 * so a worker that lost its partitions in a rebalance cannot commit). At-least-once: outputs
 * acknowledged, then offsets committed.
 *
 * <p>Nothing ends the loop but {@link #stop}. A batch that cannot be written (broker gone, fenced,
 * timed out) is aborted: the producer is replaced (a new one with the same transactional id
 * finishes whatever the old one left open), the consumer goes back to the group's committed
 * offsets, and after a backoff (1 s doubling to {@code maxBackoff}) the batch is read and scored
 * again, for as long as it takes.
 *
 * <p>A batch refused for what one of its records is ({@link #refusal}: too large for the topic, or
 * otherwise invalid there) would fail that way each time it is read. It is written again at once,
 * one event per transaction (its answer with its offset), and an event whose answer is refused
 * alone gets a minimal dead letter instead ({@link ScoringOutputs#refused}): the partition goes on,
 * and every event still has exactly one answer (at-least-once: the batch's answers that were taken
 * are written again, under the same ids). Only a minimal dead letter refused too (a dead-letter
 * topic that takes less than a kilobyte) would leave the batch to be read again for ever.
 *
 * <p>A refusal does not always say so: when the refused record shares a producer batch with others,
 * the producer splits and resends that batch until its delivery timeout, and the transaction ends
 * with an error that names no record. So a batch that fails twice in a row from the same offsets is
 * written one event per transaction the second time: a record refused alone is refused as such, and
 * a broker that is simply away fails the first of those writes as it would have failed the batch.
 */
final class ScoringWorker implements Runnable {

  private static final Logger LOG = Logger.getLogger(ScoringWorker.class);
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);

  /** What a worker needs to know; built once by {@link KafkaScoring}. */
  record Settings(
      KafkaConnection kafka,
      String topic,
      String groupId,
      Delivery delivery,
      int maxPollRecords,
      String transactionalIdPrefix,
      Duration transactionTimeout,
      Duration sendTimeout,
      Duration maxBackoff) {}

  /** Told of each batch written or aborted (metrics, health). */
  interface Listener {
    void written(int worker, int records);

    void aborted(int worker, int records, Exception cause);
  }

  private final int index;
  private final Settings settings;
  private final BatchScorer scorer;
  private final Listener listener;
  private final ConsumerLag lag;
  private static final Duration NO_WAIT = Duration.ZERO;
  private volatile boolean stopped;
  private Scoring ahead;
  private boolean rewind;
  private final ExecutorService model;
  private KafkaConsumer<byte[], byte[]> consumer;
  private KafkaProducer<byte[], byte[]> producer;

  /** Where the last batch that could not be written began, per partition; empty after a write. */
  private Map<TopicPartition, Long> failedFrom = Map.of();

  ScoringWorker(
      int index, Settings settings, BatchScorer scorer, Listener listener, ConsumerLag lag) {
    this.index = index;
    this.lag = lag;
    this.settings = settings;
    this.scorer = scorer;
    this.listener = listener;
    this.model =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "kafka-scoring-" + index + "-model");
              t.setDaemon(true);
              return t;
            });
  }

  @Override
  public void run() {
    Backoff backoff = Backoff.doubling(FIRST_BACKOFF, settings.maxBackoff());
    consumer = newConsumer();
    consumer.subscribe(List.of(settings.topic()), new WriteBeforeRevoke());
    try {
      while (!stopped) {
        List<ConsumerRecord<byte[], byte[]>> batch = List.of();
        try {
          if (producer == null) {
            producer = newProducer();
          }
          if (rewind) {
            rewindToCommitted();
            rewind = false;
          }
          // The next batch is scored (decoded, one forward pass) on the model thread while this
          // one is written, so the model's work and Kafka's round trips overlap.
          ConsumerRecords<byte[], byte[]> polled = consumer.poll(ahead == null ? POLL : NO_WAIT);
          lag.update(consumer);
          Scoring next = null;
          if (!polled.isEmpty()) {
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(polled.count());
            polled.forEach(records::add);
            next = new Scoring(records, model.submit(() -> scorer.score(records)));
          }
          if (ahead != null) {
            batch = ahead.records();
            writeAhead();
            backoff.reset();
          }
          ahead = next;
        } catch (WakeupException | InterruptException e) {
          break; // stop() woke the consumer, or the service is shutting down
        } catch (NoOffsetForPartitionException e) {
          // A new group scores what is already on the topic: every event gets its output.
          LOG.infof(
              "Scoring worker %d: no committed offset for %s (a new group); scoring from the beginning",
              index, e.partitions());
          consumer.seekToBeginning(e.partitions());
        } catch (OffsetOutOfRangeException e) {
          repositionOutOfRange(e);
        } catch (RuntimeException e) {
          if (stopped) {
            break;
          }
          ahead = null; // read again after the rewind
          listener.aborted(index, batch.size(), e);
          Duration wait = backoff.next();
          LOG.warnf(
              "Scoring worker %d: %s (%s); %s, re-reading from the committed offsets in %d s",
              index,
              batch.isEmpty()
                  ? "Kafka is not reachable"
                  : "a batch of " + batch.size() + " was not written",
              e.toString(),
              settings.delivery() == Delivery.EXACTLY_ONCE
                  ? "its transaction is aborted (no reader saw any of it)"
                  : "its outputs may be written again",
              wait.toSeconds());
          closeProducer();
          rewind = true;
          sleep(wait);
        }
      }
    } finally {
      model.shutdownNow();
      closeProducer();
      lag.forget(consumer.assignment());
      consumer.close(Duration.ofSeconds(5));
    }
  }

  /** Writes the batch scored ahead (its outputs and offsets) and forgets it. */
  private void writeAhead() {
    Scoring writing = ahead;
    ahead = null;
    List<BatchScorer.Answer> answers = writing.outputs();
    Map<TopicPartition, Long> from = firstOffsets(writing.records());
    if (answers.size() > 1 && from.equals(failedFrom)) {
      LOG.warnf(
          "Scoring worker %d: the batch of %d from %s failed before; writing its events one"
              + " transaction each",
          index, answers.size(), from);
      writeOneByOne(answers);
    } else {
      try {
        write(
            answers.stream().map(BatchScorer.Answer::record).toList(),
            nextOffsets(writing.records()));
      } catch (RuntimeException e) {
        Throwable refusal = refusal(e);
        if (refusal == null || stopped) {
          failedFrom = from;
          throw e;
        }
        LOG.warnf(
            "Scoring worker %d: a batch of %d was refused for one of its records (%s); writing"
                + " its events one transaction each",
            index, answers.size(), refusal.toString());
        recover();
        writeOneByOne(answers);
      }
    }
    failedFrom = Map.of();
    listener.written(index, writing.records().size());
  }

  private static Map<TopicPartition, Long> firstOffsets(List<ConsumerRecord<byte[], byte[]>> rs) {
    Map<TopicPartition, Long> first = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : rs) {
      first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
    }
    return first;
  }

  /**
   * Writes each answer with its event's offset on its own, in offset order; an answer refused alone
   * is replaced by its event's minimal dead letter.
   */
  private void writeOneByOne(List<BatchScorer.Answer> answers) {
    List<BatchScorer.Answer> ordered = new ArrayList<>(answers);
    ordered.sort(
        Comparator.comparing((BatchScorer.Answer a) -> a.event().topic())
            .thenComparingInt(a -> a.event().partition())
            .thenComparingLong(a -> a.event().offset()));
    for (BatchScorer.Answer a : ordered) {
      Map<TopicPartition, OffsetAndMetadata> next = nextOffsets(List.of(a.event()));
      try {
        write(List.of(a.record()), next);
      } catch (RuntimeException e) {
        Throwable refusal = refusal(e);
        if (refusal == null || stopped) {
          throw e;
        }
        recover();
        write(List.of(scorer.refused(a, refusal)), next);
      }
    }
  }

  /**
   * What in {@code e}'s causes says that a record itself cannot be written, whenever it is tried:
   * too large for the producer or the topic (a batch of several is split and sent again by the
   * producer, so a batch refused as too large holds one record), or invalid for the topic. Null for
   * anything else (broker away, fenced, timed out), which a later try may get through.
   */
  static Throwable refusal(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof RecordTooLargeException
          || t instanceof RecordBatchTooLargeException
          || t instanceof InvalidRecordException) {
        return t;
      }
    }
    return null;
  }

  /**
   * Makes the producer usable after a refusal: a transactional one aborts its transaction (the
   * refusal is an abortable error), or is replaced when even that fails.
   */
  private void recover() {
    if (settings.delivery() != Delivery.EXACTLY_ONCE) {
      return;
    }
    try {
      producer.abortTransaction();
    } catch (RuntimeException e) {
      LOG.infof(
          "Scoring worker %d: the refused transaction could not be aborted (%s); replacing the"
              + " producer",
          index, e.toString());
      closeProducer();
      producer = newProducer();
    }
  }

  /** A polled batch and its outputs, being computed on the model thread. */
  private record Scoring(
      List<ConsumerRecord<byte[], byte[]>> records, Future<List<BatchScorer.Answer>> scored) {
    List<BatchScorer.Answer> outputs() {
      try {
        return scored.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptException(e);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof RuntimeException r
            ? r
            : new IllegalStateException("scoring failed", e.getCause());
      }
    }
  }

  /**
   * A batch scored ahead must not outlive its partitions here: it is written before they go to
   * another member (while this one still belongs to the generation that owns them), and dropped
   * unwritten when they were lost (the session expired: the new owner reads them again).
   */
  private final class WriteBeforeRevoke implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      lag.forget(partitions);
      if (ahead != null && producer != null) {
        try {
          writeAhead();
        } catch (RuntimeException e) {
          ahead = null;
          rewind = true; // partitions kept (if any) go back to their committed offsets
          LOG.warnf(
              "Scoring worker %d: the batch scored ahead was not written before a rebalance (%s);"
                  + " its partitions' new owner reads it again",
              index, e.toString());
          closeProducer();
        }
      }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      lag.forget(partitions);
      ahead = null;
    }
  }

  /** Ends the loop after the batch in hand; returns at once. */
  void stop() {
    stopped = true;
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  private void write(
      List<ProducerRecord<byte[], byte[]>> outputs,
      Map<TopicPartition, OffsetAndMetadata> offsets) {
    if (settings.delivery() == Delivery.EXACTLY_ONCE) {
      producer.beginTransaction();
      for (ProducerRecord<byte[], byte[]> r : outputs) {
        producer.send(r);
      }
      producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
      producer.commitTransaction();
      return;
    }
    List<Future<RecordMetadata>> acks = new ArrayList<>(outputs.size());
    for (ProducerRecord<byte[], byte[]> r : outputs) {
      acks.add(producer.send(r));
    }
    producer.flush();
    for (Future<RecordMetadata> ack : acks) {
      try {
        ack.get();
      } catch (ExecutionException e) {
        throw new KafkaException("an output was not acknowledged", e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptException(e);
      }
    }
    consumer.commitSync(offsets);
  }

  /**
   * Puts every assigned partition back at the group's committed offset (stable: the consumer reads
   * committed offsets with {@code read_committed}, so one in an unresolved transaction is waited
   * for), where the aborted batch began.
   */
  private void rewindToCommitted() {
    Set<TopicPartition> assigned = consumer.assignment();
    if (assigned.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> committed =
        consumer.committed(assigned, settings.sendTimeout());
    List<TopicPartition> none = new ArrayList<>();
    for (TopicPartition tp : assigned) {
      OffsetAndMetadata at = committed.get(tp);
      if (at == null) {
        none.add(tp);
      } else {
        consumer.seek(tp, at);
      }
    }
    if (!none.isEmpty()) {
      // (Never with an empty list: that means every assigned partition.)
      consumer.seekToBeginning(none); // a new group reads what is already on the topic
    }
    LOG.infof(
        "Scoring worker %d re-reads from the committed offsets %s%s",
        index, committed, none.isEmpty() ? "" : " and from the beginning of " + none);
  }

  /**
   * A position the broker no longer has: below the log start (deleted by retention) goes to the
   * first record kept, beyond the log end (data lost on the broker, or a truncated log) to the
   * divergence point when the broker names one, else the end.
   */
  private void repositionOutOfRange(OffsetOutOfRangeException e) {
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(e.partitions());
    Map<TopicPartition, Long> end = consumer.endOffsets(e.partitions());
    Map<TopicPartition, OffsetAndMetadata> divergent =
        e instanceof LogTruncationException t ? t.divergentOffsets() : Map.of();
    for (Map.Entry<TopicPartition, Long> at : e.offsetOutOfRangePartitions().entrySet()) {
      TopicPartition tp = at.getKey();
      long to =
          divergent.containsKey(tp)
              ? divergent.get(tp).offset()
              : at.getValue() < begin.get(tp) ? begin.get(tp) : end.get(tp);
      LOG.warnf(
          "Scoring worker %d: offset %d of %s is out of range [%d, %d]; going on from %d",
          index, at.getValue(), tp, begin.get(tp), end.get(tp), to);
      consumer.seek(tp, to);
    }
  }

  /** The offsets to commit: the next record of each partition, with its leader epoch. */
  private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(
      List<ConsumerRecord<byte[], byte[]>> batch) {
    Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : batch) {
      next.merge(
          new TopicPartition(r.topic(), r.partition()),
          new OffsetAndMetadata(r.offset() + 1, r.leaderEpoch(), ""),
          (a, b) -> a.offset() >= b.offset() ? a : b);
    }
    return next;
  }

  private KafkaConsumer<byte[], byte[]> newConsumer() {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.GROUP_ID_CONFIG, settings.groupId());
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId());
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    // Never moved silently: a partition without a committed offset (a new group) or one whose
    // position is no longer valid is handled in the loop, with a log line.
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    // Inputs written in transactions count only once committed; committed offsets are read stable.
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, settings.maxPollRecords());
    // A replica killed (-9) holds its partitions until its session expires: 10 s, not the default
    // 45.
    c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
    c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 3_000);
    // A PNG event may be as large as the topic allows.
    c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topic.LARGE_RECORD);
    c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 16 * 1024 * 1024);
    return new KafkaConsumer<>(
        settings.kafka().consumer(c), new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private KafkaProducer<byte[], byte[]> newProducer() {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, RecordLimits.COMPRESSION);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 2);
    // Dead letters carry the original record, which may be as large as the input topic allows;
    // ScoringOutputs sizes every output within this and its topic's limit.
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, RecordLimits.MAX_REQUEST_SIZE);
    int timeout = (int) settings.sendTimeout().toMillis();
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout);
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeout);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeout + 2);
    if (settings.delivery() == Delivery.EXACTLY_ONCE) {
      p.put(
          ProducerConfig.TRANSACTIONAL_ID_CONFIG, settings.transactionalIdPrefix() + "-w" + index);
      p.put(
          ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
          (int) settings.transactionTimeout().toMillis());
    }
    KafkaProducer<byte[], byte[]> created =
        new KafkaProducer<>(
            settings.kafka().producer(p), new ByteArraySerializer(), new ByteArraySerializer());
    if (settings.delivery() == Delivery.EXACTLY_ONCE) {
      try {
        // Fences any earlier producer of this id and finishes (aborts or completes) what it left.
        created.initTransactions();
      } catch (RuntimeException e) {
        created.close(Duration.ZERO);
        throw e;
      }
    }
    return created;
  }

  private String clientId() {
    return "inference-scoring-" + index;
  }

  private void closeProducer() {
    if (producer != null) {
      producer.close(Duration.ZERO);
      producer = null;
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
