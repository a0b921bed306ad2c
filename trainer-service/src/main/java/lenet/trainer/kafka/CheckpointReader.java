package lenet.trainer.kafka;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.WireFormatException;
import lenet.model.LeNet5;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.Config;

/**
 * Reads back, from {@code model.checkpoints}, the checkpoint a cut run resumes from, and vouches
 * for it: the trainer signs what it resumes from again with its own key, so it goes on only from a
 * checkpoint signed by a key it trusts ({@link TrainerKeys}) whose signed header names the same
 * version, run and epoch. Where the resume point comes from ({@code training.events}) proves
 * nothing: anyone who can write Kafka can write events.
 */
@ApplicationScoped
public class CheckpointReader {

  private final KafkaConnection kafka;
  private final Topics topics;
  private final TrainerKeys keys;

  CheckpointReader(KafkaConnection kafka, Config config, TrainerKeys keys) {
    this.kafka = kafka;
    this.topics = Topics.from(config);
    this.keys = keys;
  }

  /**
   * What resuming from version {@code version} found: the checkpoint, or why there is none to go on
   * from.
   *
   * @param checkpoint the verified checkpoint, null when refused
   * @param refused why not, null when found
   */
  public record Found(Checkpoint checkpoint, String refused) {
    static Found refused(String why) {
      return new Found(null, why);
    }
  }

  /**
   * The checkpoint stored as {@code version}, when the topic still holds it (retention may have
   * removed it), its signature verifies against the trainer's trusted keys, and its header says it
   * is epoch {@code epoch} of run {@code runId}. The newest record of the key that passes counts:
   * one written after it by someone else (unsigned, or a tombstone) does not hide it.
   */
  public Found find(long version, String runId, int epoch) {
    String key = Checkpoint.key(LeNet5.MODEL_NAME, version);
    List<ConsumerRecord<String, byte[]>> stored = new ArrayList<>();
    KafkaClients.readToEnd(
        kafka,
        topics.name(Topic.MODEL_CHECKPOINTS),
        r -> {
          if (key.equals(r.key()) && r.value() != null) {
            stored.add(r);
          }
        });
    String what = "checkpoint v" + version;
    String newestRefusal = what + " is no longer on Kafka";
    for (int i = stored.size() - 1; i >= 0; i--) {
      Found f = check(stored.get(i), what, version, runId, epoch);
      if (f.checkpoint() != null) {
        return f;
      }
      if (i == stored.size() - 1) {
        newestRefusal = f.refused();
      }
    }
    return Found.refused(newestRefusal);
  }

  private Found check(
      ConsumerRecord<String, byte[]> r, String what, long version, String runId, int epoch) {
    Checkpoint checkpoint;
    try {
      keys.trust().verify(what, r.value(), r.headers());
      checkpoint = Checkpoint.decode(r.value());
    } catch (WireFormatException e) {
      return Found.refused(e.getMessage());
    }
    Checkpoint.Header h = checkpoint.header();
    if (h.modelVersion() != version || !Objects.equals(runId, h.runId()) || h.epoch() != epoch) {
      return Found.refused(
          String.format(
              "%s is signed as v%d, run %s, epoch %d, not as epoch %d of run %s",
              what, h.modelVersion(), h.runId(), h.epoch(), epoch, runId));
    }
    return new Found(checkpoint, null);
  }
}
