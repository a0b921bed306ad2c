package lenet.trainer.feedback;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;
import lenet.contract.dataset.DatasetReader.SplitData;
import lenet.contract.wire.DatasetBatch;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.TrainingEvent.FeedbackUsed;
import lenet.trainer.training.TrainingData;

/**
 * Mixes labelled feedback into a dataset copy: a fixed part of it (by a hash of each id) is held
 * out and measured beside the dev split; of the rest, the newest labelled go into the training
 * split, as many as keep feedback at most {@code share} of it. Pure: the same inputs give the same
 * training data. The training split is shuffled each epoch with the run's seed, so the feedback
 * images are appended to it.
 */
public final class FeedbackMix {

  /** The training data with feedback, and what the run's STARTED event says about it. */
  public record Mixed(TrainingData data, FeedbackUsed used) {}

  private static final Comparator<FeedbackImages.Image> NEWEST_LABEL_FIRST =
      Comparator.comparingLong(FeedbackImages.Image::labelTime)
          .reversed()
          .thenComparing(FeedbackImages.Image::id);

  private FeedbackMix() {}

  /** Whether image {@code id} is held out: its CRC-32 falls in the first {@code share} of them. */
  public static boolean heldOut(String id, double share) {
    CRC32 crc = new CRC32();
    crc.update(id.getBytes(StandardCharsets.UTF_8));
    return crc.getValue() < share * (1L << 32);
  }

  /**
   * The most feedback images a training split of {@code mnist} images may take so that they make at
   * most {@code share} of it: f / (mnist + f) <= share.
   */
  public static int cap(int mnist, double share) {
    // The small margin keeps 0.2 of 2,400 at 600 although 0.2 * 2400 / 0.8 is 599.99... in doubles.
    return (int) Math.min(Integer.MAX_VALUE, Math.floor(share * mnist / (1 - share) + 1e-9));
  }

  public static Mixed mix(
      TrainingData base, FeedbackImages read, double share, double heldOutShare) {
    List<FeedbackImages.Image> held = new ArrayList<>();
    List<FeedbackImages.Image> trainable = new ArrayList<>();
    for (FeedbackImages.Image image : read.images()) {
      (heldOut(image.id(), heldOutShare) ? held : trainable).add(image);
    }
    trainable.sort(NEWEST_LABEL_FIRST);
    held.sort(Comparator.comparing(FeedbackImages.Image::id));
    List<FeedbackImages.Image> used =
        trainable.subList(0, Math.min(trainable.size(), cap(base.train().count(), share)));
    SplitData train = append(base.train(), used);
    TrainingData data =
        new TrainingData(
            base.datasetId(), train, base.dev(), base.test(), append(empty(Split.DEV), held));
    Map<String, Map<Integer, Long>> offsets = new TreeMap<>(read.endOffsets());
    return new Mixed(
        data,
        new FeedbackUsed(
            share,
            heldOutShare,
            offsets,
            read.labels(),
            read.labelled(),
            read.images().size(),
            read.missing(),
            read.undecodable(),
            held.size(),
            used.size(),
            train.count()));
  }

  private static SplitData empty(Split split) {
    return new SplitData(split, new float[0], new byte[0]);
  }

  /** {@code split} with {@code images} after its own. */
  private static SplitData append(SplitData split, List<FeedbackImages.Image> images) {
    int n = split.count();
    int size = DatasetBatch.IMAGE_SIZE;
    float[] pixels = new float[(n + images.size()) * size];
    byte[] labels = new byte[n + images.size()];
    System.arraycopy(split.pixels(), 0, pixels, 0, n * size);
    System.arraycopy(split.labels(), 0, labels, 0, n);
    for (int i = 0; i < images.size(); i++) {
      System.arraycopy(images.get(i).pixels(), 0, pixels, (n + i) * size, size);
      labels[n + i] = (byte) images.get(i).digit();
    }
    return new SplitData(split.split(), pixels, labels);
  }
}
