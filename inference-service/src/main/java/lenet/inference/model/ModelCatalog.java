package lenet.inference.model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import lenet.contract.wire.Checkpoint;
import lenet.inference.config.InferenceConfig.CandidateChoice;

/**
 * Every valid checkpoint read from the checkpoint topic (headers always, parameters for the newest
 * {@code keepVersions}), the refused ones with their reasons, and which checkpoint of a run is its
 * candidate. Not thread-safe: the model manager guards it.
 */
final class ModelCatalog {

  private static final int REJECTIONS_KEPT = 20;

  /** A checkpoint this replica knows. */
  static final class Entry {
    final Checkpoint.Header header;
    final String key;
    Checkpoint checkpoint;
    String failure;

    Entry(Checkpoint checkpoint, String key) {
      this.header = checkpoint.header();
      this.key = key;
      this.checkpoint = checkpoint;
    }

    long version() {
      return header.modelVersion();
    }

    boolean loadable() {
      return checkpoint != null && failure == null;
    }

    /** The last epoch of its run: the run COMPLETED (the trainer writes it after the test pass). */
    boolean finalEpoch() {
      return header.epoch() >= header.epochs();
    }
  }

  private final Map<Long, Entry> entries = new LinkedHashMap<>();
  private final Deque<ModelView.Rejection> rejections = new ArrayDeque<>();

  /** Adds (or replaces) a checkpoint; a re-published version moves to the end of arrival order. */
  void add(Checkpoint checkpoint, String key) {
    entries.remove(checkpoint.header().modelVersion());
    entries.put(checkpoint.header().modelVersion(), new Entry(checkpoint, key));
  }

  Optional<Entry> get(long version) {
    return Optional.ofNullable(entries.get(version));
  }

  void remove(long version) {
    entries.remove(version);
  }

  /** In arrival order. */
  Collection<Entry> entries() {
    return entries.values();
  }

  void reject(ModelView.Rejection rejection) {
    rejections.addFirst(rejection);
    while (rejections.size() > REJECTIONS_KEPT) {
      rejections.removeLast();
    }
  }

  List<ModelView.Rejection> rejections() {
    return List.copyOf(rejections);
  }

  /**
   * Drops the parameters of the oldest checkpoints beyond {@code keep}, never those of {@code
   * protectedVersions}; their headers stay listed.
   */
  void evictParameters(int keep, Set<Long> protectedVersions) {
    long held = entries.values().stream().filter(e -> e.checkpoint != null).count();
    for (Entry e : entries.values()) {
      if (held <= keep) {
        return;
      }
      if (e.checkpoint != null && !protectedVersions.contains(e.version())) {
        e.checkpoint = null;
        held--;
      }
    }
  }

  /**
   * The candidate of each completed run, keyed by the version of the run's final checkpoint: that
   * final checkpoint, or (with {@code BEST_EPOCH}) the run's checkpoint with the highest dev
   * accuracy up to it, a tie going to the later epoch.
   */
  Map<Long, Entry> candidates(CandidateChoice choice) {
    Map<Long, Entry> out = new LinkedHashMap<>();
    for (Entry fin : entries.values()) {
      if (!fin.finalEpoch()) {
        continue;
      }
      Entry pick = fin;
      if (choice == CandidateChoice.BEST_EPOCH) {
        for (Entry e : entries.values()) {
          boolean sameRun =
              e.header.runId() != null
                  && e.header.runId().equals(fin.header.runId())
                  && e.version() <= fin.version();
          if (sameRun
              && (e.header.devAccuracy() > pick.header.devAccuracy()
                  || (e.header.devAccuracy() == pick.header.devAccuracy()
                      && e.version() > pick.version()))) {
            pick = e;
          }
        }
      }
      out.put(fin.version(), pick);
    }
    return out;
  }

  /** The highest version known, 0 for none. */
  long newestVersion() {
    return entries.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
  }

  /** Versions newest first. */
  List<Entry> newestFirst() {
    List<Entry> all = new ArrayList<>(entries.values());
    all.sort(Comparator.comparingLong(Entry::version).reversed());
    return all;
  }
}
