package lenet.inference.model;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import lenet.contract.wire.ModelControl;

/**
 * The fleet-wide model decisions as this replica has applied them from the control topic (only
 * records that verified, see {@link ControlTrust}): the verdict on each candidate, the pin, and a
 * bounded history, beside the records that were ignored and why. The state depends only on the set
 * of records that survive compaction, not on their order between keys: a version is promoted when
 * any PROMOTE record names it. What these records mean for serving (the champion is the newest
 * promoted version with a verified checkpoint; a pin counts only for a known version) is {@link
 * ModelState}'s to say, since it also knows the checkpoints. Bounded: verdicts of a version whose
 * checkpoint was deleted are forgotten, and at most {@link #VERDICTS_KEPT} of each kind are kept.
 * Not thread-safe: the model manager guards it.
 */
final class ControlState {

  private static final int HISTORY_KEPT = 100;
  private static final int REFUSED_KEPT = 20;

  /** Verdicts of each kind kept (the newest versions): one per completed run, so years of runs. */
  static final int VERDICTS_KEPT = 10_000;

  private final String model;
  private final TreeMap<Long, ModelControl> promoted = new TreeMap<>();
  private final TreeMap<Long, ModelControl> rejected = new TreeMap<>();
  private final TreeMap<Long, ModelControl> canaries = new TreeMap<>();
  private final TreeMap<Long, ModelControl> rolledBack = new TreeMap<>();
  private final TreeMap<Long, ModelControl> drifts = new TreeMap<>();

  private ModelControl pin;
  private final Deque<ModelView.Control> history = new ArrayDeque<>();
  private final Deque<ModelView.Rejection> refused = new ArrayDeque<>();

  ControlState(String model) {
    this.model = model;
  }

  /**
   * Applies one verified record of the control topic.
   *
   * @param key the record key (a tombstone's only content)
   * @param record the decoded value, or null for a tombstone
   */
  void apply(String key, ModelControl record, String source) {
    if (record == null) {
      forget(key);
      return;
    }
    if (!model.equals(record.model())) {
      return;
    }
    switch (record.type()) {
      case PROMOTE -> keep(promoted, record);
      case REJECT -> keep(rejected, record);
      case CANARY -> keep(canaries, record);
      case ROLLBACK -> keep(rolledBack, record);
      case DRIFT -> keep(drifts, record);
      case PIN -> pin = record;
      case FOLLOW -> pin = null;
    }
    if (history.stream().anyMatch(h -> source.equals(h.source()))) {
      return; // the same record again, read after a reconnect
    }
    history.addFirst(
        new ModelView.Control(
            Instant.ofEpochMilli(record.at()),
            record.type().name(),
            record.version(),
            record.by(),
            record.reason(),
            source));
    while (history.size() > HISTORY_KEPT) {
      history.removeLast();
    }
  }

  /**
   * Lists a record that changed nothing, with its reason.
   *
   * @return false when it is listed already (the same record read again after a reconnect)
   */
  boolean refuse(ModelView.Rejection rejection) {
    if (refused.stream().anyMatch(r -> r.source().equals(rejection.source()))) {
      return false;
    }
    refused.addFirst(rejection);
    while (refused.size() > REFUSED_KEPT) {
      refused.removeLast();
    }
    return true;
  }

  private static void keep(TreeMap<Long, ModelControl> verdicts, ModelControl record) {
    verdicts.put(record.version(), record);
    while (verdicts.size() > VERDICTS_KEPT) {
      verdicts.pollFirstEntry();
    }
  }

  private void forget(String key) {
    if (ModelControl.pinKey(model).equals(key)) {
      pin = null;
      return;
    }
    byType()
        .forEach(
            (type, map) ->
                map.keySet().removeIf(v -> ModelControl.verdictKey(model, v, type).equals(key)));
  }

  /** The records kept per version, by their type. */
  private Map<ModelControl.Type, TreeMap<Long, ModelControl>> byType() {
    return Map.of(
        ModelControl.Type.PROMOTE, promoted,
        ModelControl.Type.REJECT, rejected,
        ModelControl.Type.CANARY, canaries,
        ModelControl.Type.ROLLBACK, rolledBack,
        ModelControl.Type.DRIFT, drifts);
  }

  /** Forgets every record on {@code version}: its checkpoint was deleted. */
  void forgetVersion(long version) {
    byType().values().forEach(map -> map.remove(version));
  }

  /**
   * Promoted versions that were not rolled back, newest first, known checkpoints or not (a copy).
   */
  List<Long> promotedNewestFirst() {
    return promoted.descendingKeySet().stream().filter(v -> !rolledBack.containsKey(v)).toList();
  }

  /** The CANARY record of {@code version}, if it was sent to canary. */
  Optional<ModelControl> canary(long version) {
    return Optional.ofNullable(canaries.get(version));
  }

  /** The ROLLBACK record of {@code version}, if it was rolled back. */
  Optional<ModelControl> rollback(long version) {
    return Optional.ofNullable(rolledBack.get(version));
  }

  /** The DRIFT record of {@code version}, if its drift was signalled. */
  Optional<ModelControl> drift(long version) {
    return Optional.ofNullable(drifts.get(version));
  }

  /** The PROMOTE record of {@code version}, if any. */
  Optional<ModelControl> promotion(long version) {
    return Optional.ofNullable(promoted.get(version));
  }

  /** The pinned version, whether its checkpoint is known or not. */
  Optional<Long> pinned() {
    return pin == null ? Optional.empty() : Optional.of(pin.version());
  }

  Optional<ModelControl> pinRecord() {
    return Optional.ofNullable(pin);
  }

  boolean promoted(long version) {
    return promoted.containsKey(version);
  }

  /**
   * The fleet's verdict on {@code version}: PROMOTE when any promotion names it, else REJECT, else
   * none.
   */
  Optional<ModelControl> verdict(long version) {
    ModelControl p = promoted.get(version);
    return p != null ? Optional.of(p) : Optional.ofNullable(rejected.get(version));
  }

  List<ModelView.Control> history() {
    return List.copyOf(history);
  }

  List<ModelView.Rejection> refused() {
    return List.copyOf(refused);
  }
}
