package lenet.inference.model;

import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import lenet.contract.wire.ModelControl;
import lenet.model.LeNet5;
import org.jboss.logging.Logger;

/**
 * Operators' pins, fleet-wide: {@code activate} and {@code follow} write PIN and FOLLOW records to
 * the control topic, where every replica (also one that starts later) applies them, and answer once
 * this replica serves the result.
 */
final class Pins {

  private static final Logger LOG = Logger.getLogger(Pins.class);

  private final String replicaId;
  private final ModelState state;
  private final ControlPublisher publisher;

  Pins(String replicaId, ModelState state, ControlPublisher publisher) {
    this.replicaId = replicaId;
    this.state = state;
    this.publisher = publisher;
  }

  /**
   * Pins {@code version} fleet-wide (rollback or roll forward): writes the pin to the control topic
   * and waits until this replica serves it. When it cannot load here, the previous pin state is
   * written back.
   *
   * @throws UnknownVersionException when no valid checkpoint has this version
   * @throws ActivationException when it cannot serve
   */
  void activate(long version, Duration timeout) {
    Optional<ModelControl> previous;
    try {
      previous = state.pinRequested(version);
    } catch (ModelState.PinRefused e) {
      throw e.unknown
          ? new UnknownVersionException(e.getMessage())
          : new ActivationException(e.getMessage());
    }
    boolean served;
    try {
      write(
          ModelControl.pin(
              LeNet5.MODEL_NAME, version, replicaId, "pinned over HTTP on " + replicaId));
      awaitCondition(timeout, () -> state.pinDone(version));
      served = state.serves(version);
    } finally {
      state.pinSettled(version);
    }
    if (!served) {
      String failure = state.failure(version);
      write(
          previous.orElseGet(
              () ->
                  ModelControl.follow(
                      LeNet5.MODEL_NAME,
                      replicaId,
                      "pin of v" + version + " undone: it did not load")));
      throw new ActivationException(
          "v" + version + " did not serve within " + timeout.toSeconds() + " s: " + failure);
    }
    LOG.infof(
        "Pinned model v%d on every replica: new champions are listed but do not serve until POST /api/models/follow",
        version);
  }

  /** Drops the pin fleet-wide and serves the champion (or the policy's choice) again. */
  void follow(Duration timeout) {
    write(ModelControl.follow(LeNet5.MODEL_NAME, replicaId, "follow over HTTP on " + replicaId));
    awaitCondition(timeout, state::following);
    LOG.infof(
        "Following again: serving %s", state.serving().map(v -> "v" + v).orElse("nothing yet"));
  }

  private void write(ModelControl record) {
    try {
      publisher.publish(record);
    } catch (IllegalStateException e) {
      throw new ActivationException("could not record the decision on Kafka: " + e.getMessage());
    }
  }

  private static boolean awaitCondition(Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ActivationException("interrupted while waiting for the model to serve");
      }
    }
    return true;
  }
}
