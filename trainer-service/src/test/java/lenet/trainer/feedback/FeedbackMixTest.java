package lenet.trainer.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import lenet.contract.dataset.DatasetReader.SplitData;
import lenet.contract.wire.DatasetBatch;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.trainer.training.TrainingData;
import org.junit.jupiter.api.Test;

/**
 * How feedback joins a dataset copy, without a broker: the cap keeps feedback at most its share of
 * the training split and takes the newest labels first, the held-out ids are the same in every run
 * and never trained on, and the dataset copy itself is left as it was.
 */
class FeedbackMixTest {

  @Test
  void theCapKeepsFeedbackAtMostItsShareOfTheTrainingSplit() {
    assertThat(FeedbackMix.cap(2400, 0.2)).isEqualTo(600); // 600 of 3,000
    assertThat(FeedbackMix.cap(48_000, 0.2)).isEqualTo(12_000);
    assertThat(FeedbackMix.cap(2400, 0.004)).isEqualTo(9);
    assertThat(FeedbackMix.cap(10, 0.01)).isZero();
    for (double share : new double[] {0.01, 0.1, 0.2, 0.5, 0.9}) {
      int f = FeedbackMix.cap(48_000, share);
      assertThat((double) f / (48_000 + f)).as("share %s", share).isLessThanOrEqualTo(share);
      assertThat((double) (f + 1) / (48_000 + f + 1)).isGreaterThan(share);
    }
  }

  @Test
  void aFixedFifthOfTheIdsIsHeldOut() {
    long held = IntStream.range(0, 10_000).filter(i -> FeedbackMix.heldOut("id-" + i, 0.2)).count();
    assertThat(held).isBetween(1800L, 2200L);
    assertThat(FeedbackMix.heldOut("id-7", 0.2)).isEqualTo(FeedbackMix.heldOut("id-7", 0.2));
    assertThat(IntStream.range(0, 100).noneMatch(i -> FeedbackMix.heldOut("id-" + i, 0))).isTrue();
  }

  @Test
  void theNewestLabelledTrainTheHeldOutAreMeasuredAndTheDatasetCopyStaysAsItWas() {
    TrainingData base = new TrainingData("d", split(Split.TRAIN, 400, 0f), null, null);
    float[] before = base.train().pixels().clone();
    List<FeedbackImages.Image> images = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      images.add(new FeedbackImages.Image("f-" + i, i % 10, 1000 + i, filled(1 + i)));
    }
    FeedbackImages read =
        new FeedbackImages(images, Map.of("digits.labels", Map.of(0, 60L)), 60, 55, 1);

    FeedbackMix.Mixed mixed = FeedbackMix.mix(base, read, 0.02, 0.2);

    int cap = FeedbackMix.cap(400, 0.02); // 8
    List<FeedbackImages.Image> trainable =
        images.stream().filter(im -> !FeedbackMix.heldOut(im.id(), 0.2)).toList();
    List<FeedbackImages.Image> held =
        images.stream().filter(im -> FeedbackMix.heldOut(im.id(), 0.2)).toList();
    SplitData train = mixed.data().train();
    assertThat(train.count()).isEqualTo(400 + cap);
    // The newest labels (highest time) come after the dataset's own images, newest first.
    for (int k = 0; k < cap; k++) {
      FeedbackImages.Image expected = trainable.get(trainable.size() - 1 - k);
      assertThat(train.pixels()[(400 + k) * DatasetBatch.IMAGE_SIZE])
          .isEqualTo(expected.pixels()[0]);
      assertThat(train.labels()[400 + k]).isEqualTo((byte) expected.digit());
    }
    assertThat(mixed.data().feedback().count()).isEqualTo(held.size());
    assertThat(base.train().pixels()).isEqualTo(before);
    assertThat(base.train().count()).isEqualTo(400);
    assertThat(mixed.used())
        .extracting(u -> u.found(), u -> u.missing(), u -> u.heldOut(), u -> u.training())
        .containsExactly(50, 4, held.size(), cap);
  }

  private static SplitData split(Split split, int n, float value) {
    return new SplitData(split, filled(n, value), new byte[n]);
  }

  private static float[] filled(float value) {
    return filled(1, value);
  }

  private static float[] filled(int images, float value) {
    float[] x = new float[images * DatasetBatch.IMAGE_SIZE];
    Arrays.fill(x, value);
    return x;
  }
}
