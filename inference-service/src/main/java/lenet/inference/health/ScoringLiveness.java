package lenet.inference.health;

import jakarta.enterprise.context.ApplicationScoped;
import lenet.inference.kafka.KafkaScoring;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * DOWN only for what the process cannot mend by itself: a Kafka scoring worker that has ended (its
 * loop survives every Kafka failure, so an ended one means a bug or an Error such as out of
 * memory). A broker outage leaves this UP.
 */
@Liveness
@ApplicationScoped
public class ScoringLiveness implements HealthCheck {

  private final KafkaScoring scoring;

  ScoringLiveness(KafkaScoring scoring) {
    this.scoring = scoring;
  }

  @Override
  public HealthCheckResponse call() {
    KafkaScoring.Status s = scoring.status();
    boolean ok = scoring.stopping() || s.alive() == s.workers();
    return HealthCheckResponse.named("kafka-scoring-workers")
        .status(ok)
        .withData("workers", s.workers())
        .withData("alive", s.alive())
        .build();
  }
}
