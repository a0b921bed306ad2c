package lenet.inference.kafka;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collection;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The scoring workers' consumer lag, {@code inference.kafka.lag{topic, partition}}: for each
 * partition assigned to a worker of this replica, the records between the worker's position and the
 * partition's end (the last stable offset: the consumer reads {@code read_committed}), as the
 * consumer knows it from its last fetch ({@link Consumer#currentLag}). The sum over the fleet's
 * replicas is the lag of the consumer group that KEDA scales on (which counts from the committed
 * offset, so it also holds the batch a worker has read and not yet written). A partition has a
 * series here only while a worker of this replica owns it.
 */
final class ConsumerLag {

  private final MeterRegistry registry;
  private final Map<TopicPartition, Owned> owned = new ConcurrentHashMap<>();

  private record Owned(AtomicLong lag, Gauge gauge) {}

  ConsumerLag(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Reads the lag of every partition {@code consumer} owns; call on the consumer's thread. */
  void update(Consumer<?, ?> consumer) {
    for (TopicPartition tp : consumer.assignment()) {
      OptionalLong lag = consumer.currentLag(tp);
      if (lag.isPresent()) {
        owned.computeIfAbsent(tp, this::register).lag().set(lag.getAsLong());
      }
    }
  }

  /** Forgets partitions this replica no longer owns (revoked, lost, the worker stopped). */
  void forget(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      Owned o = owned.remove(tp);
      if (o != null) {
        registry.remove(o.gauge());
      }
    }
  }

  /** The last lag read for {@code tp}, or -1 when this replica does not own it. */
  long lag(TopicPartition tp) {
    Owned o = owned.get(tp);
    return o == null ? -1 : o.lag().get();
  }

  private Owned register(TopicPartition tp) {
    AtomicLong lag = new AtomicLong();
    Gauge gauge =
        Gauge.builder("inference.kafka.lag", lag, AtomicLong::get)
            .description(
                "Image events on a partition this replica scores that its worker has not read yet")
            .tag("topic", tp.topic())
            .tag("partition", String.valueOf(tp.partition()))
            .register(registry);
    return new Owned(lag, gauge);
  }
}
