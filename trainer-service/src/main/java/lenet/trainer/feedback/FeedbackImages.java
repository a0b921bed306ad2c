package lenet.trainer.feedback;

import java.util.List;
import java.util.Map;

/**
 * The labelled images a run read from Kafka: one per labelled id that has an image (its newest
 * label, its image in the network's input form), with the counts and the offsets it read up to.
 *
 * @param images one per id, in no particular order
 * @param endOffsets per topic, the end offset of each partition it read up to
 * @param labels label records read, tombstones included
 * @param labelled ids with a label after them
 * @param undecodable labelled ids whose only images do not decode
 */
public record FeedbackImages(
    List<Image> images,
    Map<String, Map<Integer, Long>> endOffsets,
    int labels,
    int labelled,
    int undecodable) {

  /** A labelled image: its id, true digit and label time, and its 784 inputs in [0,1]. */
  public record Image(String id, int digit, long labelTime, float[] pixels) {}

  /** Labelled ids without any image on the topics (never sent, or past the topics' retention). */
  public int missing() {
    return labelled - images.size() - undecodable;
  }
}
