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
 * The fleet-wide model decisions as this replica has applied them from the control topic: the
 * verdict on each candidate, the pin, and a bounded history. The state depends only on the set of
 * records that survive compaction, not on their order between keys: a version is promoted when any
 * PROMOTE record names it, and the champion is the newest promoted version. Not thread-safe: the
 * model manager guards it.
 */
final class ControlState {

  private static final int HISTORY_KEPT = 100;

  private final String model;
  private final TreeMap<Long, ModelControl> promoted = new TreeMap<>();
  private final TreeMap<Long, ModelControl> rejected = new TreeMap<>();
  private ModelControl pin;
  private final Deque<ModelView.Control> history = new ArrayDeque<>();

  ControlState(String model) {
    this.model = model;
  }

  /**
   * Applies one record of the control topic.
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
      case PROMOTE -> promoted.put(record.version(), record);
      case REJECT -> rejected.put(record.version(), record);
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

  private void forget(String key) {
    if (ModelControl.pinKey(model).equals(key)) {
      pin = null;
      return;
    }
    for (ModelControl.Type verdict : List.of(ModelControl.Type.PROMOTE, ModelControl.Type.REJECT)) {
      Map<Long, ModelControl> map = verdict == ModelControl.Type.PROMOTE ? promoted : rejected;
      map.keySet().removeIf(v -> ModelControl.verdictKey(model, v, verdict).equals(key));
    }
  }

  Optional<Long> champion() {
    return promoted.isEmpty() ? Optional.empty() : Optional.of(promoted.lastKey());
  }

  /** Promoted versions, newest first (the champion, then earlier champions). */
  List<Long> promotedNewestFirst() {
    return List.copyOf(promoted.descendingKeySet());
  }

  Optional<Long> pinned() {
    return pin == null ? Optional.empty() : Optional.of(pin.version());
  }

  Optional<ModelControl> pinRecord() {
    return Optional.ofNullable(pin);
  }

  /**
   * The verdict on {@code version}: PROMOTE when any promotion names it, else REJECT, else none.
   */
  Optional<ModelControl> verdict(long version) {
    ModelControl p = promoted.get(version);
    return p != null ? Optional.of(p) : Optional.ofNullable(rejected.get(version));
  }

  boolean decided(long version) {
    return promoted.containsKey(version) || rejected.containsKey(version);
  }

  boolean promoted(long version) {
    return promoted.containsKey(version);
  }

  List<ModelView.Control> history() {
    return List.copyOf(history);
  }
}
