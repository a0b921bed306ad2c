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

  private final ModelManager.Settings settings;
  private final ModelState state;
  private final ServingSlot slot;
  private final ControlPublisher publisher;

  Pins(
      ModelManager.Settings settings,
      ModelState state,
      ServingSlot slot,
      ControlPublisher publisher) {
    this.settings = settings;
    this.state = state;
    this.slot = slot;
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
    synchronized (state) {
      ModelCatalog.Entry k =
          state
              .catalog
              .get(version)
              .orElseThrow(
                  () ->
                      new UnknownVersionException(
                          "model version "
                              + version
                              + " is unknown; GET /api/models lists the known versions"));
      if (k.failure != null) {
        throw new ActivationException("v" + version + " cannot serve: " + k.failure);
      }
      if (k.checkpoint == null) {
        throw new ActivationException(
            "v"
                + version
                + " is older than the "
                + settings.keepVersions()
                + " versions kept in memory (inference.keep-versions); restart the service to re-read it");
      }
      previous = state.control.pinRecord();
      state.pinning.add(version);
    }
    try {
      write(
          ModelControl.pin(
              LeNet5.MODEL_NAME,
              version,
              settings.replicaId(),
              "pinned over HTTP on " + settings.replicaId()));
      awaitCondition(
          timeout,
          () -> {
            synchronized (state) {
              boolean failed = state.catalog.get(version).map(e -> e.failure != null).orElse(true);
              boolean applied = state.pinned().filter(v -> v == version).isPresent();
              return failed || (applied && isServing(version));
            }
          });
    } finally {
      synchronized (state) {
        state.pinning.remove(version);
      }
    }
    if (!isServing(version)) {
      String failure;
      synchronized (state) {
        failure =
            state.catalog.get(version).map(e -> String.valueOf(e.failure)).orElse("it vanished");
      }
      write(
          previous.orElseGet(
              () ->
                  ModelControl.follow(
                      LeNet5.MODEL_NAME,
                      settings.replicaId(),
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
    write(
        ModelControl.follow(
            LeNet5.MODEL_NAME,
            settings.replicaId(),
            "follow over HTTP on " + settings.replicaId()));
    awaitCondition(
        timeout,
        () -> {
          synchronized (state) {
            if (state.pinned().isPresent()) {
              return false;
            }
            Optional<Long> wanted = state.wanted().map(ModelCatalog.Entry::version);
            return wanted.isEmpty() || wanted.equals(slot.servingVersion());
          }
        });
    LOG.infof(
        "Following again: serving %s",
        slot.servingVersion().map(v -> "v" + v).orElse("nothing yet"));
  }

  private void write(ModelControl record) {
    try {
      publisher.publish(record);
    } catch (IllegalStateException e) {
      throw new ActivationException("could not record the decision on Kafka: " + e.getMessage());
    }
  }

  private boolean isServing(long version) {
    return slot.servingVersion().filter(v -> v == version).isPresent();
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
