package lenet.inference.kafka;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.jboss.logging.Logger;

/**
 * Whether the broker answers, probed every few seconds ({@code describeCluster}): reported in the
 * {@code kafka} health group and as {@code inference_kafka_up}, never as a reason to take the
 * replica out of service (HTTP inference needs only its model).
 */
@ApplicationScoped
public class KafkaConnectivity {

  private static final Logger LOG = Logger.getLogger(KafkaConnectivity.class);
  private static final Duration EVERY = Duration.ofSeconds(5);
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  /** The last probe's answer; {@code since} is when it last changed. */
  public record State(boolean up, Instant since, String error) {}

  private final KafkaConnection kafka;
  private volatile State state = new State(false, Instant.now(), null);
  private ScheduledExecutorService probe;
  private Admin admin;

  KafkaConnectivity(KafkaConnection kafka, MeterRegistry registry) {
    this.kafka = kafka;
    registry.gauge("inference.kafka.up", this, c -> c.state().up() ? 1 : 0);
  }

  void onStart(@Observes StartupEvent event) {
    probe =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "kafka-probe");
              t.setDaemon(true);
              return t;
            });
    probe.scheduleWithFixedDelay(this::check, 0, EVERY.toMillis(), TimeUnit.MILLISECONDS);
  }

  void onStop(@Observes ShutdownEvent event) {
    if (probe != null) {
      probe.shutdownNow();
    }
    if (admin != null) {
      admin.close(Duration.ofSeconds(1));
    }
  }

  public State state() {
    return state;
  }

  private void check() {
    try {
      if (admin == null) {
        admin =
            Admin.create(
                kafka.admin(
                    Map.of(
                        AdminClientConfig.CLIENT_ID_CONFIG,
                        "inference-kafka-probe",
                        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                        (int) TIMEOUT.toMillis(),
                        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                        (int) TIMEOUT.toMillis())));
      }
      admin.describeCluster().clusterId().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (!state.up()) {
        LOG.infof("Kafka at %s answers%s", kafka, state.error() == null ? "" : " again");
        state = new State(true, Instant.now(), null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      String error = e.getCause() != null ? e.getCause().toString() : e.toString();
      if (state.up()) {
        LOG.warnf(
            "Kafka at %s does not answer (%s); HTTP inference goes on, Kafka scoring resumes by"
                + " itself when it is back",
            kafka, error);
        state = new State(false, Instant.now(), error);
      } else {
        state = new State(false, state.since(), error);
      }
    }
  }
}
