package lenet.ingest;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready unless the last ingest failed: a failed ingest needs a person (see the message). */
@Readiness
@ApplicationScoped
public class IngestHealth implements HealthCheck {

  private final IngestJob job;

  IngestHealth(IngestJob job) {
    this.job = job;
  }

  @Override
  public HealthCheckResponse call() {
    IngestJob.Status s = job.status();
    return HealthCheckResponse.named("mnist-ingest")
        .status(s.state() != IngestJob.State.FAILED)
        .withData("state", s.state().name())
        .withData("message", String.valueOf(s.message()))
        .build();
  }
}
