package lenet.trainer.kafka;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import lenet.contract.model.LeNet5;
import lenet.contract.topics.KafkaClients;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.WireFormatException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Reads one stored checkpoint back from {@code model.checkpoints} (where a cut run resumes). */
@ApplicationScoped
public class CheckpointReader {

  private static final Duration POLL = Duration.ofMillis(200);

  private final String bootstrap;
  private final Topics topics;

  CheckpointReader(
      @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap, Config config) {
    this.bootstrap = bootstrap;
    this.topics = Topics.from(config);
  }

  /**
   * The checkpoint stored as {@code version}, if the topic still holds it (retention may have
   * removed it) and it decodes.
   */
  public Optional<Checkpoint> find(long version) {
    String topic = topics.name(Topic.MODEL_CHECKPOINTS);
    String key = Checkpoint.key(LeNet5.MODEL_NAME, version);
    byte[] found = null;
    try (KafkaConsumer<String, byte[]> consumer = KafkaClients.reader(bootstrap)) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
          if (key.equals(r.key())) {
            found = r.value(); // the newest record of the key wins; null = removed
          }
        }
      }
    }
    if (found == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Checkpoint.decode(found));
    } catch (WireFormatException e) {
      return Optional.empty();
    }
  }
}
