package lenet.inference.model;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.CheckpointTrust;
import lenet.contract.wire.ModelControl;
import lenet.contract.wire.WireFormatException;
import lenet.model.LeNet5;
import lenet.model.ModelIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jboss.logging.Logger;

/**
 * Turns the records of the checkpoint and control topics into facts for {@link ModelState}: each is
 * decoded and verified (a trusted signature, a plausible version, a compatible architecture) before
 * the state hears of it; one that does not verify is counted, logged and listed instead.
 */
final class ModelRecords {

  private static final Logger LOG = Logger.getLogger(ModelRecords.class);

  private final ModelState state;
  private final CheckpointTrust trust;
  private final ControlTrust controlTrust;
  private final CheckpointRejections rejections;
  private final MeterRegistry registry;

  private final ModelTraces traces;

  ModelRecords(
      ModelState state,
      CheckpointTrust trust,
      ControlTrust controlTrust,
      CheckpointRejections rejections,
      MeterRegistry registry,
      ModelTraces traces) {
    this.traces = traces;
    this.state = state;
    this.trust = trust;
    this.controlTrust = controlTrust;
    this.rejections = rejections;
    this.registry = registry;
  }

  /**
   * One record of the checkpoint topic: verified (signature of a trusted trainer key, SHA-256,
   * architecture, parameter count, a plausible version) and kept, or rejected with a logged reason
   * and a counter; a tombstone signed by the fleet's control key (retention's) forgets the version,
   * an unsigned one is rejected.
   */
  void checkpoint(ConsumerRecord<byte[], byte[]> record) {
    String source = record.topic() + "-" + record.partition() + "@" + record.offset();
    byte[] key = record.key();
    byte[] value = record.value();
    String k = key == null ? null : new String(key, StandardCharsets.UTF_8);
    if (!Checkpoint.keyBelongsTo(k, LeNet5.MODEL_NAME)) {
      LOG.debugf("Skipping checkpoint %s for key '%s'", source, k);
      return;
    }
    if (value == null) {
      // A deletion counts only signed by the fleet (retention's): else any Kafka writer could
      // demote the champion by deleting its checkpoint on every replica.
      try {
        controlTrust.verify(k, null, null, record.headers());
      } catch (ControlTrust.Refused e) {
        rejections.reject(source, e.reason.name(), e.getMessage());
        return;
      }
      state.delete(Checkpoint.versionOfKey(k));
      traces.forget(Checkpoint.versionOfKey(k));
      return;
    }
    Checkpoint checkpoint;
    try {
      trust.verify(value, record.headers());
      checkpoint = Checkpoint.decode(value);
      ModelIO.checkCompatible(checkpoint.header());
    } catch (WireFormatException e) {
      rejections.reject(source, e.reason().name(), e.getMessage());
      return;
    }
    Checkpoint.Header h = checkpoint.header();
    if (!LeNet5.MODEL_NAME.equals(h.modelName())) {
      LOG.debugf("Skipping checkpoint %s for model '%s'", source, h.modelName());
      return;
    }
    long newestKnown = state.newestVersion();
    if (!trust.plausible(h.modelVersion(), newestKnown, record.offset())) {
      rejections.reject(
          source,
          "VERSION_TOO_FAR",
          "checkpoint v"
              + h.modelVersion()
              + " is more than "
              + trust.maxVersionJump()
              + " above the newest known version ("
              + newestKnown
              + ") and its own offset ("
              + record.offset()
              + ")");
      return;
    }
    state.apply(checkpoint, k);
    traces.checkpoint(h.modelVersion(), record.headers());
    LOG.infof(
        "Checkpoint v%d is available (run %s, epoch %d/%d, dev accuracy %.4f, from %s)",
        h.modelVersion(), h.runId(), h.epoch(), h.epochs(), h.devAccuracy(), source);
  }

  /**
   * One record of the control topic (a tombstone when its value is null): applied when it verifies
   * ({@link ControlTrust}); one that does not is ignored, counted ({@code
   * inference_control_refused_total{reason}}), logged and listed in {@link ModelView}.
   */
  void control(ConsumerRecord<byte[], byte[]> r) {
    String source = r.topic() + "-" + r.partition() + "@" + r.offset();
    String k = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
    ModelControl record = null;
    try {
      if (r.value() != null) {
        try {
          record = ModelControl.decode(r.value());
        } catch (WireFormatException e) {
          throw new ControlTrust.Refused(ControlTrust.Reason.UNREADABLE, e.getMessage());
        }
      }
      controlTrust.verify(k, record, r.value(), r.headers());
    } catch (ControlTrust.Refused e) {
      boolean fresh =
          state.refuse(
              new ModelView.Rejection(
                  Instant.now(), source + " (" + k + ")", e.reason.name(), e.getMessage()));
      if (fresh) { // not the same record read again after a reconnect
        Counter.builder("inference.control.refused")
            .description("Control records ignored: unreadable, badly signed or beyond their signer")
            .tag("reason", e.reason.name())
            .register(registry)
            .increment();
        LOG.warnf(
            "Ignoring control record %s (%s): %s: %s", source, k, e.reason.name(), e.getMessage());
      }
      return;
    }
    state.apply(k, record, source);
    if (record != null) {
      LOG.infof(
          "Model control %s%s by %s: %s (%s)",
          record.type(),
          record.version() == null ? "" : " v" + record.version(),
          record.by(),
          record.reason(),
          source);
    }
  }
}
