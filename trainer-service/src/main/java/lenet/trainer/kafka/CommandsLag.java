package lenet.trainer.kafka;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * {@code trainer.commands.lag}: the records of {@code training.commands} after the trainers'
 * group's committed offset, that is the commands not over yet: not yet taken, queued ({@code
 * trainer.queue.size}) or running (a command's offset is committed when its run is over). Read
 * every 5 s on the command consumer's polling thread; NaN while this trainer owns no command
 * partition (another trainer of the group does) or the broker does not answer.
 */
@ApplicationScoped
public class CommandsLag {

  private static final Logger LOG = Logger.getLogger(CommandsLag.class);
  private static final String CHANNEL = "training-commands";
  private static final Duration WAIT = Duration.ofSeconds(3);

  private final KafkaClientService clients;
  private volatile double lag = Double.NaN;
  private ScheduledExecutorService refresh;

  CommandsLag(KafkaClientService clients, MeterRegistry registry) {
    this.clients = clients;
    Gauge.builder("trainer.commands.lag", this, l -> l.lag)
        .description(
            "Commands on training.commands not over yet: not taken, queued or running; NaN when"
                + " another trainer owns the partition")
        .register(registry);
  }

  void onStart(@Observes StartupEvent event) {
    refresh =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "commands-lag");
              t.setDaemon(true);
              return t;
            });
    refresh.scheduleWithFixedDelay(this::read, 2, 5, TimeUnit.SECONDS);
  }

  void onStop(@Observes ShutdownEvent event) {
    if (refresh != null) {
      refresh.shutdownNow();
    }
  }

  private void read() {
    try {
      KafkaConsumer<Object, Object> consumer = clients.getConsumer(CHANNEL);
      if (consumer == null) {
        return;
      }
      Double read =
          consumer
              .runOnPollingThread(CommandsLag::uncommitted)
              .await()
              .atMost(WAIT.multipliedBy(3));
      lag = read == null ? Double.NaN : read;
    } catch (RuntimeException e) {
      lag = Double.NaN;
      LOG.debugf("Command lag not read: %s", e.toString());
    }
  }

  /** End offsets minus committed offsets over the assigned partitions; null when none is. */
  static Double uncommitted(Consumer<?, ?> consumer) {
    Set<TopicPartition> assigned = consumer.assignment();
    if (assigned.isEmpty()) {
      return null;
    }
    Map<TopicPartition, Long> end = consumer.endOffsets(assigned, WAIT);
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(assigned, WAIT);
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned, WAIT);
    long sum = 0;
    for (TopicPartition tp : assigned) {
      OffsetAndMetadata at = committed.get(tp);
      sum += Math.max(0, end.get(tp) - (at == null ? begin.get(tp) : at.offset()));
    }
    return (double) sum;
  }
}
