package lenet.inference.model;

import java.util.Optional;
import lenet.contract.wire.ModelControl.Tally;

/**
 * Where the model lifecycle reads each version's labelled live outcomes (the outcomes join's
 * figures, the same on every replica), for its canary, rollback and drift decisions.
 */
@FunctionalInterface
public interface LiveCounts {

  /** No live figures: every decision on them waits. */
  LiveCounts NONE = version -> Optional.empty();

  /**
   * The tally of {@code version} so far; a version with no labelled outcome yet has a zero tally;
   * empty while the figures cannot be read (the join is not running).
   */
  Optional<Tally> tally(long version);
}
