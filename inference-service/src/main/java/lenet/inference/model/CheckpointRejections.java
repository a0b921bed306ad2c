package lenet.inference.model;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import lenet.contract.wire.WireFormatException;
import org.jboss.logging.Logger;

/**
 * Refused checkpoints: counted per reason ({@code inference_checkpoints_rejected_total}), listed in
 * the catalog and logged with what keeps serving.
 */
final class CheckpointRejections {

  private static final Logger LOG = Logger.getLogger(CheckpointRejections.class);

  private final MeterRegistry registry;
  private final ModelState state;

  CheckpointRejections(MeterRegistry registry, ModelState state) {
    this.registry = registry;
    this.state = state;
  }

  void reject(String source, String reason, String message) {
    Counter.builder("inference.checkpoints.rejected")
        .description("Checkpoints refused (corrupt, incompatible or failing to load)")
        .tag("reason", reason)
        .register(registry)
        .increment();
    state.reject(new ModelView.Rejection(Instant.now(), source, reason, message));
    LOG.warnf(
        "Rejected checkpoint %s: %s: %s. %s",
        source,
        reason,
        message,
        state.serving().map(v -> "Model v" + v + " keeps serving.").orElse("No model serves yet."));
  }

  /** A version that failed to load or warm up: it cannot serve here (nor be pinned). */
  void failed(long version, RuntimeException e) {
    String reason = e instanceof WireFormatException w ? w.reason().name() : "LOAD_FAILED";
    failed(version, reason, e.getMessage());
  }

  void failed(long version, String reason, String message) {
    state.failed(version, reason + ": " + message);
    reject("v" + version, reason, message);
  }
}
