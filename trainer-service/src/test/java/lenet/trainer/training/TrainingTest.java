package lenet.trainer.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import lenet.contract.dataset.DatasetReader.SplitData;
import lenet.contract.dataset.MnistSet;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.TrainingEvent.EpochMetrics;
import lenet.kafka.SharedKafkaResource;
import lenet.mnist.MnistFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The DJL training function on a small real subset of MNIST. A Quarkus test only so that it shares
 * the class loader that loaded libtorch: a JVM loads a native library into one class loader only.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class TrainingTest {

  static TrainingData data;

  @BeforeAll
  static void load() {
    MnistFiles files =
        new MnistFiles(Path.of(System.getProperty("mnist.dir", "../data/mnist")), true);
    MnistSet train = files.ensurePresent().train();
    data =
        new TrainingData(
            "subset",
            split(Split.TRAIN, train, 0, 4000),
            split(Split.DEV, train, 50_000, 1000),
            split(Split.TEST, files.test(), 0, 1000));
  }

  static SplitData split(Split split, MnistSet set, int from, int count) {
    float[] pixels = new float[count * 784];
    byte[] labels = new byte[count];
    for (int i = 0; i < count; i++) {
      labels[i] = set.labels()[from + i];
      for (int p = 0; p < 784; p++) {
        pixels[i * 784 + p] = set.pixel(from + i, p) / 255f;
      }
    }
    return new SplitData(split, pixels, labels);
  }

  @Test
  void autogradRecordsOnlyInsideTheStepsOnAnyThread() throws Exception {
    // A thread of its own, as the trainer's training-run thread: libtorch starts it in grad mode.
    java.util.concurrent.atomic.AtomicReference<Object> seen =
        new java.util.concurrent.atomic.AtomicReference<>();
    Thread t =
        new Thread(
            () -> {
              try {
                boolean before = ai.djl.pytorch.jni.JniUtils.isGradMode();
                List<Boolean> atEpochEnd = new ArrayList<>();
                RunSpec spec =
                    new RunSpec("g", 1, 32, 0.001, "adam", 3, "cosine", Augmentation.NONE, null);
                TrainingData small =
                    new TrainingData(
                        "g",
                        slice(data.train(), 320),
                        slice(data.dev(), 64),
                        slice(data.test(), 64));
                Training.run(
                    spec,
                    small,
                    Device.cpu(),
                    (e, m, test, p) -> atEpochEnd.add(ai.djl.pytorch.jni.JniUtils.isGradMode()));
                seen.set(List.of(before, atEpochEnd, ai.djl.pytorch.jni.JniUtils.isGradMode()));
              } catch (Throwable e) {
                seen.set(e);
              }
            });
    t.start();
    t.join(120_000);
    assertThat(seen.get())
        .as("before, at each epoch's end, after")
        .isEqualTo(List.of(true, List.of(false), true));
  }

  private static SplitData slice(SplitData split, int n) {
    return new SplitData(
        split.split(),
        java.util.Arrays.copyOf(split.pixels(), n * 784),
        java.util.Arrays.copyOf(split.labels(), n));
  }

  @Test
  void aWholePixelShiftCopiesExactlyWhatBilinearSamplingGives() {
    Random random = new Random(5);
    float[] image = new float[2 * 784];
    for (int p = 784; p < image.length; p++) {
      image[p] = random.nextFloat();
    }
    for (int dx = -3; dx <= 3; dx++) {
      for (int dy = -3; dy <= 3; dy++) {
        float[] copied = new float[784 + 5];
        float[] sampled = new float[784 + 5];
        java.util.Arrays.fill(copied, 7f); // stale values must be overwritten
        Augmentation.shifted(image, 784, copied, 5, dx, dy);
        Augmentation.sampled(image, 784, sampled, 5, 0, 1, dx, dy);
        assertThat(java.util.Arrays.copyOfRange(copied, 5, 789))
            .as("dx %d dy %d", dx, dy)
            .isEqualTo(java.util.Arrays.copyOfRange(sampled, 5, 789));
      }
    }
  }

  @Test
  void wholePixelShiftsMoveTheDigitAndKeepItWhole() {
    float[] image = new float[784];
    image[14 * 28 + 14] = 1f;
    image[10 * 28 + 12] = 0.5f;
    float[] out = new float[784];
    Random random = new Random(1);
    java.util.Set<Integer> positions = new java.util.HashSet<>();
    for (int k = 0; k < 50; k++) {
      new Augmentation(2, 0, 0).apply(image, 0, out, 0, random);
      float sum = 0;
      int at = -1;
      for (int p = 0; p < 784; p++) {
        sum += out[p];
        if (out[p] == 1f) {
          at = p;
        }
      }
      assertThat(sum).isEqualTo(1.5f);
      assertThat(Math.abs(at / 28 - 14)).isLessThanOrEqualTo(2);
      assertThat(Math.abs(at % 28 - 14)).isLessThanOrEqualTo(2);
      positions.add(at);
    }
    assertThat(positions.size()).isGreaterThan(10);
    Augmentation.NONE.apply(image, 0, out, 0, random);
    assertThat(out).containsExactly(image);
  }

  @Test
  void rotationAndZoomDistortARealDigitButKeepItsInk() {
    float[] digit = new float[784];
    System.arraycopy(data.train().pixels(), 0, digit, 0, 784);
    double ink = 0;
    for (float v : digit) {
      ink += v;
    }
    Augmentation augmentation = new Augmentation(2, 10, 0.1);
    float[] a = new float[784];
    float[] b = new float[784];
    augmentation.apply(digit, 0, a, 0, new Random(5));
    augmentation.apply(digit, 0, b, 0, new Random(5));
    assertThat(a).containsExactly(b);
    assertThat(a).isNotEqualTo(digit);
    double distorted = 0;
    for (float v : a) {
      assertThat(v).isBetween(0f, 1f);
      distorted += v;
    }
    // A zoom of at most ±10% changes the area by at most ~21%.
    assertThat(distorted).isBetween(ink * 0.75, ink * 1.3);
  }

  private static List<EpochMetrics> train(long seed, List<byte[]> params, Evaluation[] test) {
    RunSpec spec = new RunSpec("t", 3, 32, 0.001, "adam", seed, "cosine", Augmentation.NONE, null);
    List<EpochMetrics> epochs = new ArrayList<>();
    Training.Result r =
        Training.run(
            spec,
            data,
            Device.cpu(),
            (epoch, m, t, p) -> {
              epochs.add(m);
              params.add(p);
            });
    test[0] = r.test();
    assertThat(r.history()).isEqualTo(epochs);
    return epochs;
  }

  @Test
  void aShortRunLowersTheLossPassesAnAccuracyBarAndRepeatsExactly() {
    List<byte[]> params = new ArrayList<>();
    Evaluation[] test = new Evaluation[1];
    List<EpochMetrics> first = train(7, params, test);

    assertThat(first).hasSize(3);
    assertThat(first.get(2).loss()).isLessThan(first.get(0).loss());
    assertThat(first.get(2).accuracy()).isGreaterThan(first.get(0).accuracy());
    assertThat(first.get(2).devAccuracy()).isGreaterThan(0.9);
    assertThat(test[0].accuracy()).isGreaterThan(0.9);
    assertThat(params).hasSize(3).allSatisfy(p -> assertThat(p.length).isBetween(240_000, 270_000));

    // A JIT warm-up in between (as the trainer runs at start) changes nothing of the next run.
    RunSpec like =
        new RunSpec("like", 1, 32, 0.001, "adam", 1, "cosine", new Augmentation(2, 0, 0), null);
    assertThat(Training.warmUp(like, Device.cpu(), 10)).isPositive();
    List<byte[]> again = new ArrayList<>();
    Evaluation[] test2 = new Evaluation[1];
    List<EpochMetrics> second = train(7, again, test2);
    for (int i = 0; i < 3; i++) {
      assertThat(second.get(i).loss()).isEqualTo(first.get(i).loss());
      assertThat(second.get(i).accuracy()).isEqualTo(first.get(i).accuracy());
      assertThat(second.get(i).devLoss()).isEqualTo(first.get(i).devLoss());
      assertThat(second.get(i).devAccuracy()).isEqualTo(first.get(i).devAccuracy());
    }
    assertThat(test2[0]).isEqualTo(test[0]);
    assertThat(again.get(2)).isEqualTo(params.get(2));

    // Resumed from the checkpoint of its last epoch (only its end was missing): nothing trains,
    // and the test split scores the stored model exactly as the run's own end did.
    RunSpec spec = new RunSpec("t", 3, 32, 0.001, "adam", 7, "cosine", Augmentation.NONE, null);
    List<Integer> trained = new ArrayList<>();
    Training.Result end =
        Training.run(
            spec,
            data,
            Device.cpu(),
            (epoch, m, t, p) -> trained.add(epoch),
            new Training.Start(3, params.get(2)));
    assertThat(trained).isEmpty();
    assertThat(end.test().accuracy()).isCloseTo(test[0].accuracy(), within(1e-9));
    assertThat(end.test().loss()).isCloseTo(test[0].loss(), within(1e-6));

    // Resumed after epoch 1: epochs 2 and 3 train on from the stored model, not from scratch.
    List<EpochMetrics> resumed = new ArrayList<>();
    Training.run(
        spec,
        data,
        Device.cpu(),
        (epoch, m, t, p) -> {
          trained.add(epoch);
          resumed.add(m);
        },
        new Training.Start(1, params.get(0)));
    assertThat(trained).containsExactly(2, 3);
    assertThat(resumed.get(0).loss())
        .as("epoch 2 resumed goes on from epoch 1's model")
        .isLessThan(first.get(0).loss() * 0.7)
        .isCloseTo(first.get(1).loss(), within(first.get(1).loss() * 0.5));
    assertThat(resumed.get(1).devAccuracy()).isGreaterThan(0.9);
  }
}
