package lenet.trainer.kafka;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import lenet.contract.topics.KafkaClients;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.WireFormatException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * What {@code training.events} says about one run, read from Kafka itself (not from this process's
 * memory), so that a command delivered again after a restart, a broker outage or a rebalance is
 * judged by what already happened: a run that ended never runs again, and one that keeps being cut
 * short is given up.
 */
@ApplicationScoped
public class RunHistory {

  /**
   * @param starts STARTED events without an end after them
   * @param ended the event that ended the run, if any
   */
  public record Summary(int starts, TrainingEvent.Type ended) {}

  private static final Duration POLL = Duration.ofMillis(200);

  private final String bootstrap;
  private final Topics topics;

  RunHistory(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap, Config config) {
    this.bootstrap = bootstrap;
    this.topics = Topics.from(config);
  }

  /** Reads the events of {@code runId} (records keyed by it) from the start of the topic. */
  public Summary of(String runId) {
    TopicPartition tp = new TopicPartition(topics.name(Topic.TRAINING_EVENTS), 0);
    int starts = 0;
    TrainingEvent.Type ended = null;
    try (KafkaConsumer<String, byte[]> consumer = KafkaClients.reader(bootstrap)) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      while (consumer.position(tp) < end) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
          if (!runId.equals(r.key()) || r.value() == null) {
            continue;
          }
          TrainingEvent.Type type;
          try {
            type = TrainingEvent.decode(r.value()).type();
          } catch (WireFormatException e) {
            continue;
          }
          if (type == TrainingEvent.Type.STARTED) {
            starts++;
          } else if (type.ends()) {
            ended = type;
          }
        }
      }
    }
    return new Summary(ended == null ? starts : 0, ended);
  }
}
