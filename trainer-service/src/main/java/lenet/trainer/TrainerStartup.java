package lenet.trainer;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import lenet.contract.topics.Topics;
import lenet.model.NativeMemory;
import lenet.support.kafka.KafkaConnection;
import lenet.trainer.training.Training;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * Sets the engine's threads and the native allocator before DJL loads, creates the topics, and logs
 * the network and the device.
 */
@ApplicationScoped
public class TrainerStartup {

  private static final Logger LOG = Logger.getLogger(TrainerStartup.class);

  /** Runs before SmallRye connects the channels, so no consumer ever meets a missing topic. */
  void onStart(
      @Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event,
      TrainerConfig trainer,
      Config config,
      KafkaConnection kafka) {
    trainer
        .threads()
        .ifPresent(
            n -> {
              System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(n));
              System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
            });
    if (trainer.keepFreedNativeMemory()) {
      LOG.infof(
          "Native memory freed by libtorch kept for reuse (glibc thresholds raised): %s",
          NativeMemory.keepFreedMemory() ? "yes" : "no, not glibc");
    }
    Topics.from(config).ensureAll(kafka);
    // No libtorch op here: they all run on the training thread (NetworkSummary says why).
    LOG.infof(
        "Training device: %s (trainer.device=%s)",
        Training.device(trainer.device()), trainer.device());
  }
}
