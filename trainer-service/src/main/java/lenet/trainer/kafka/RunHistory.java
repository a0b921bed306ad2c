package lenet.trainer.kafka;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.TrainingEvent;
import lenet.contract.wire.WireFormatException;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.eclipse.microprofile.config.Config;

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
   * @param lastEpoch the newest epoch the run has published (its EPOCH event, after its
   *     checkpoint), or null: where a run cut short resumes
   */
  public record Summary(int starts, TrainingEvent.Type ended, TrainingEvent.Epoch lastEpoch) {}

  private final KafkaConnection kafka;
  private final Topics topics;

  RunHistory(KafkaConnection kafka, Config config) {
    this.kafka = kafka;
    this.topics = Topics.from(config);
  }

  /** Reads the events of {@code runId} (records keyed by it) from the start of the topic. */
  public Summary of(String runId) {
    List<TrainingEvent> events = new ArrayList<>();
    KafkaClients.readToEnd(
        kafka,
        topics.name(Topic.TRAINING_EVENTS),
        r -> {
          if (runId.equals(r.key()) && r.value() != null) {
            try {
              events.add(TrainingEvent.decode(r.value()));
            } catch (WireFormatException e) {
              // not an event of this run's history
            }
          }
        });
    int starts = 0;
    TrainingEvent.Type ended = null;
    TrainingEvent.Epoch last = null;
    for (TrainingEvent event : events) {
      switch (event.type()) {
        case STARTED -> {
          starts++;
          // A start from scratch numbers epochs anew; a resumed one goes on after its epoch.
          if (((TrainingEvent.Started) event).resumedFrom() == null) {
            last = null;
          }
        }
        case EPOCH -> last = (TrainingEvent.Epoch) event;
        case COMPLETED, FAILED, CANCELLED -> ended = event.type();
        case QUEUED -> {}
      }
    }
    return new Summary(ended == null ? starts : 0, ended, last);
  }
}
