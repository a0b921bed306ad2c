package lenet.inference.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.inference.config.InferenceConfig;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Builds the model manager from configuration and follows the checkpoint topic while the service
 * runs.
 */
@ApplicationScoped
public class ModelLifecycle {

  private static final Logger LOG = Logger.getLogger(ModelLifecycle.class);

  private final Topics topics;
  private final String bootstrap;
  private CheckpointFollower follower;

  ModelLifecycle(
      Config mpConfig, @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
    this.topics = Topics.from(mpConfig);
    this.bootstrap = bootstrap;
  }

  @Produces
  @Singleton
  ModelManager manager(InferenceConfig config, MeterRegistry registry) {
    // Must precede the engine's first use; an explicit -Dai.djl.pytorch.num_threads wins.
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(config.torchThreads()));
      System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
    Device device = device(config.device());
    LOG.infof(
        "Models run on %s with %d predictors each; policy '%s'",
        device, config.predictors(), config.policy().name().toLowerCase());
    return new ModelManager(
        new ModelManager.Settings(
            config.policy(),
            device,
            config.predictors(),
            config.warmUpPasses(),
            config.warmUpBatch(),
            config.keepVersions(),
            topics.name(Topic.MODEL_CHECKPOINTS)),
        registry);
  }

  void close(@Disposes ModelManager manager) {
    manager.close();
  }

  static Device device(InferenceConfig.DeviceChoice choice) {
    int gpus = Engine.getEngine("PyTorch").getGpuCount();
    return switch (choice) {
      case CPU -> Device.cpu();
      case AUTO -> gpus > 0 ? Device.gpu() : Device.cpu();
      case GPU -> {
        if (gpus == 0) {
          throw new IllegalStateException(
              "inference.device=gpu but PyTorch sees no GPU: build with -Pgpu for CUDA libtorch, or set "
                  + "inference.device=auto");
        }
        yield Device.gpu();
      }
    };
  }

  void onStart(@Observes StartupEvent event, ModelManager manager) {
    topics.ensureAll(bootstrap);
    follower =
        new CheckpointFollower(bootstrap, topics.name(Topic.MODEL_CHECKPOINTS), manager).start();
  }

  void onStop(@Observes ShutdownEvent event) {
    if (follower != null) {
      follower.close();
    }
  }
}
