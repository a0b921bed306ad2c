package lenet.trainer.kafka;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import lenet.contract.model.LeNet5;
import lenet.contract.topics.KafkaClients;
import lenet.contract.topics.KafkaConnection;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.WireFormatException;
import org.eclipse.microprofile.config.Config;

/** Reads one stored checkpoint back from {@code model.checkpoints} (where a cut run resumes). */
@ApplicationScoped
public class CheckpointReader {

  private final KafkaConnection kafka;
  private final Topics topics;

  CheckpointReader(KafkaConnection kafka, Config config) {
    this.kafka = kafka;
    this.topics = Topics.from(config);
  }

  /**
   * The checkpoint stored as {@code version}, if the topic still holds it (retention may have
   * removed it) and it decodes.
   */
  public Optional<Checkpoint> find(long version) {
    String key = Checkpoint.key(LeNet5.MODEL_NAME, version);
    AtomicReference<byte[]> found = new AtomicReference<>();
    KafkaClients.readToEnd(
        kafka,
        topics.name(Topic.MODEL_CHECKPOINTS),
        r -> {
          if (key.equals(r.key())) {
            found.set(r.value()); // the newest record of the key wins; null = removed
          }
        });
    if (found.get() == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Checkpoint.decode(found.get()));
    } catch (WireFormatException e) {
      return Optional.empty();
    }
  }
}
