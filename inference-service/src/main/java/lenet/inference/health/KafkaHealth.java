package lenet.inference.health;

import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import lenet.inference.kafka.KafkaConnectivity;
import lenet.inference.kafka.KafkaScoring;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * Kafka as this replica sees it, at {@code /q/health/group/kafka}: whether the broker answers
 * ({@code kafka: DOWN since ...}) and what the scoring workers did last. Deliberately neither
 * readiness nor liveness: while Kafka is away HTTP inference still serves, and the workers resume
 * by themselves when it is back.
 */
@HealthGroup("kafka")
@ApplicationScoped
public class KafkaHealth implements HealthCheck {

  private final KafkaConnectivity connectivity;
  private final KafkaScoring scoring;

  KafkaHealth(KafkaConnectivity connectivity, KafkaScoring scoring) {
    this.connectivity = connectivity;
    this.scoring = scoring;
  }

  @Override
  public HealthCheckResponse call() {
    KafkaConnectivity.State s = connectivity.state();
    KafkaScoring.Status w = scoring.status();
    HealthCheckResponseBuilder r =
        HealthCheckResponse.named("kafka")
            .status(s.up())
            .withData("since", s.since().toString())
            .withData("delivery", w.delivery().name())
            .withData("workers", w.workers())
            .withData("workersAlive", w.alive());
    if (s.error() != null) {
      r.withData("error", s.error());
    }
    if (w.lastWritten() != null) {
      r.withData("lastBatchWritten", w.lastWritten().toString());
    }
    if (w.failingSince() != null) {
      r.withData("batchesFailingSince", w.failingSince().toString());
      r.withData("lastFailure", String.valueOf(w.lastFailure()));
    }
    return r.build();
  }
}
