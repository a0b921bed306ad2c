package lenet.inference.model;

import ai.djl.Device;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.List;
import lenet.contract.topics.Topics;
import lenet.contract.wire.CheckpointTrust;
import lenet.contract.wire.SigningKeys;
import lenet.inference.config.InferenceConfig;
import lenet.model.Gpus;
import lenet.support.kafka.KafkaConnection;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * Builds the model manager from configuration and follows the checkpoint topic while the service
 * runs.
 */
@ApplicationScoped
public class ModelLifecycle {

  private static final Logger LOG = Logger.getLogger(ModelLifecycle.class);

  private final Topics topics;
  private final KafkaConnection kafka;
  private ModelStateFollower follower;

  ModelLifecycle(Config mpConfig, KafkaConnection kafka) {
    this.topics = Topics.from(mpConfig);
    this.kafka = kafka;
  }

  /**
   * @param tracingOff `true` (the default): tracing is off, the OpenTelemetry API a no-op. `false`
   *     turns it on: spans go over OTLP to `quarkus.otel.exporter.otlp.endpoint`, and the trace
   *     context travels in `traceparent` headers of the Kafka records (docs/tracing.md)
   */
  @Produces
  @Singleton
  ModelManager manager(
      InferenceConfig config,
      MeterRegistry registry,
      LiveCounts live,
      io.opentelemetry.api.OpenTelemetry otel,
      @org.eclipse.microprofile.config.inject.ConfigProperty(
              name = "quarkus.otel.sdk.disabled",
              defaultValue = "true")
          boolean tracingOff) {
    // Must precede the engine's first use; an explicit -Dai.djl.pytorch.num_threads wins.
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(config.torchThreads()));
      System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
    Device device = device(config.device());
    LOG.infof(
        "Models run on %s, %d forward passes at once each; policy '%s'%s",
        device,
        config.predictors(),
        config.policy().name().toLowerCase(),
        config.policy() == InferenceConfig.Policy.GATED
            ? String.format(
                " (candidate: %s epoch of a completed run; gate on the %s split, tolerance %.4f%s)",
                config.gate().candidate().name().toLowerCase().replace('_', '-'),
                config.gate().split().name().toLowerCase(),
                config.gate().tolerance(),
                config.shadow().fraction() > 0
                    ? String.format(
                        "; shadow %.1f%% of traffic for %d images",
                        config.shadow().fraction() * 100, config.shadow().minImages())
                    : "")
            : "");
    CheckpointTrust trust =
        CheckpointTrust.of(
            config.signing().trustedKeys().orElse(List.of()),
            config.signing().trustedKeyFiles().orElse(List.of()),
            config.signing().maxVersionJump());
    if (trust.keyIds().isEmpty()) {
      LOG.warnf(
          "No trusted signing key yet (inference.signing.trusted-keys%s): checkpoints are rejected"
              + " with BAD_SIGNATURE until one is",
          config
              .signing()
              .trustedKeyFiles()
              .map(f -> "; key files " + f + " not there")
              .orElse(""));
    } else {
      LOG.infof("Checkpoints must be signed by one of the keys %s", trust.keyIds());
    }
    java.nio.file.Path controlKey = config.signing().controlKeyFile();
    if (!java.nio.file.Files.exists(controlKey)) {
      LOG.warnf(
          "Creating a new control key pair at %s: every replica of a fleet must hold the same pair"
              + " (one Secret or volume, as ./pipeline, compose and deploy/ give it); a replica with"
              + " a pair of its own ignores the others' decisions, and they ignore its",
          controlKey.toAbsolutePath());
    }
    ControlTrust controlTrust =
        new ControlTrust(
            SigningKeys.loadOrCreate(controlKey),
            config.signing().trustedControlKeys().orElse(List.of()).stream()
                .map(String::trim)
                .filter(k -> !k.isEmpty())
                .map(SigningKeys::publicKey)
                .toList());
    LOG.infof(
        "Control records are signed with key %s (%s) and must be signed by one of %s",
        controlTrust.keyIds().get(0),
        config.signing().controlKeyFile().toAbsolutePath(),
        controlTrust.keyIds());
    return new ModelManager(
        config,
        device,
        topics,
        trust,
        controlTrust,
        registry,
        kafka,
        live,
        tracingOff ? ModelTraces.OFF : new ModelTraces(otel.getTracer("lenet.inference.model")));
  }

  void close(@Disposes ModelManager manager) {
    manager.close();
  }

  static Device device(InferenceConfig.DeviceChoice choice) {
    return switch (choice) {
      case CPU -> Device.cpu();
      case AUTO -> Gpus.count() > 0 ? Device.gpu() : Device.cpu();
      case GPU -> {
        Gpus.absence()
            .ifPresent(
                why -> {
                  throw new IllegalStateException(
                      "inference.device=gpu but "
                          + why
                          + "; run a CUDA libtorch (docs/operations.md#gpu), or set"
                          + " inference.device=auto");
                });
        yield Device.gpu();
      }
    };
  }

  void onStart(@Observes StartupEvent event, ModelManager manager) {
    topics.ensureAll(kafka);
    follower = new ModelStateFollower(kafka, manager).start();
  }

  void onStop(@Observes ShutdownEvent event) {
    if (follower != null) {
      follower.close();
    }
  }
}
