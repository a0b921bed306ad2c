package lenet.inference.health;

import jakarta.enterprise.context.ApplicationScoped;
import lenet.inference.model.ModelManager;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only once this replica has caught up with the model topics and a model serves: before that,
 * traffic belongs to other replicas. Its data says whether it has caught up, so a script can tell
 * "no model yet" from "not read yet".
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
    r.withData("caughtUp", models.isCaughtUp());
    models.champion().ifPresent(v -> r.withData("champion", v));
    models.pinnedVersion().ifPresent(v -> r.withData("pinned", v));
    if (!models.isCaughtUp()) {
      return r.down()
          .withData(
              "message",
              "reading the checkpoint and control topics from Kafka to find the model to serve")
          .build();
    }
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
                        "no model serves yet: waiting for a promoted checkpoint on '"
                            + models.checkpointTopic()
                            + "'; run a training (trainer-service) or check the trainer can reach Kafka"))
        .build();
  }
}
