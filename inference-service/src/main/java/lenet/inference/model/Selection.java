package lenet.inference.model;

import java.util.List;
import java.util.Optional;
import lenet.contract.wire.Checkpoint;
import lenet.inference.config.InferenceConfig.Policy;

/**
 * The ungated policies ({@code latest}, {@code best}) as a fold over the checkpoints in the order
 * they arrived: the result is what a replica that had applied the policy to each checkpoint as it
 * came would serve. Folding lets a cold replica replay the whole topic and then load exactly one
 * model.
 */
final class Selection {

  private Selection() {}

  /**
   * @param candidates valid, loadable checkpoint headers in arrival order
   * @return the header the policy serves, empty when there is none
   */
  static Optional<Checkpoint.Header> select(Policy policy, List<Checkpoint.Header> candidates) {
    Checkpoint.Header chosen = null;
    for (Checkpoint.Header h : candidates) {
      if (chosen == null || replaces(policy, h, chosen)) {
        chosen = h;
      }
    }
    return Optional.ofNullable(chosen);
  }

  /** Whether {@code next} takes over from {@code current} under {@code policy}. */
  static boolean replaces(Policy policy, Checkpoint.Header next, Checkpoint.Header current) {
    return switch (policy) {
      case LATEST, GATED -> next.modelVersion() > current.modelVersion();
      case BEST -> next.devAccuracy() >= current.devAccuracy();
    };
  }
}
