package lenet.trainer.kafka;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Collection;
import lenet.trainer.runs.CommandIntake;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * When the command partition moves to another trainer, this one hands its queue over, so that no
 * command runs on two trainers at once. (With the cooperative-sticky assignor a partition moves
 * only when its owner leaves or is presumed dead, not whenever a trainer joins.)
 */
@ApplicationScoped
@Identifier("training-commands-rebalance")
public class CommandsRebalanceListener implements KafkaConsumerRebalanceListener {

  private final CommandIntake intake;

  CommandsRebalanceListener(CommandIntake intake) {
    this.intake = intake;
  }

  @Override
  public void onPartitionsRevoked(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
    if (!partitions.isEmpty()) {
      intake.handOver();
    }
  }

  @Override
  public void onPartitionsLost(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
    if (!partitions.isEmpty()) {
      intake.handOver();
    }
  }
}
