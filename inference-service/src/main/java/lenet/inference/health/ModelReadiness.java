package lenet.inference.health;

import jakarta.enterprise.context.ApplicationScoped;
import lenet.inference.model.ModelManager;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only while a model serves: before the first checkpoint arrives, traffic belongs to other
 * replicas.
 */
@Readiness
@ApplicationScoped
public class ModelReadiness implements HealthCheck {

  private final ModelManager models;

  ModelReadiness(ModelManager models) {
    this.models = models;
  }

  @Override
  public HealthCheckResponse call() {
    HealthCheckResponseBuilder r = HealthCheckResponse.named("lenet5-model");
    return models
        .serving()
        .map(
            h ->
                r.up()
                    .withData("version", h.modelVersion())
                    .withData("devAccuracy", String.valueOf(h.devAccuracy())))
        .orElseGet(
            () ->
                r.down()
                    .withData(
                        "message",
                        "no model loaded yet: waiting for a checkpoint on '"
                            + models.settings().checkpointTopic()
                            + "'; run a training (trainer-service) or check the trainer can reach Kafka"))
        .withData("mode", models.view().mode().name())
        .build();
  }
}
