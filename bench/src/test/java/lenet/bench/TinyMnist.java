package lenet.bench;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import lenet.contract.dataset.MnistSet;
import lenet.mnist.MnistFiles;

/**
 * The first images of the real MNIST, written as the four IDX files the drivers read: a data
 * directory small enough that every driver runs on it in seconds. The real files come from {@code
 * mnist.dir} (set for every module's tests), fetched there once when missing.
 */
final class TinyMnist {

  private TinyMnist() {}

  private static MnistSet realTrain;
  private static MnistSet realTest;

  /**
   * The real MNIST's first {@code train} training and {@code test} test images, into {@code dir}.
   */
  static synchronized Path write(Path dir, int train, int test) {
    if (realTrain
        == null) { // read (fetched if missing) once for the test classes, which run at once
      MnistFiles real =
          new MnistFiles(Path.of(System.getProperty("mnist.dir", "../data/mnist")), true)
              .ensurePresent();
      realTrain = real.train();
      realTest = real.test();
    }
    write(dir, MnistFiles.TRAIN_IMAGES, MnistFiles.TRAIN_LABELS, realTrain.head(train));
    write(dir, MnistFiles.TEST_IMAGES, MnistFiles.TEST_LABELS, realTest.head(test));
    return dir;
  }

  private static void write(Path dir, String imagesName, String labelsName, MnistSet set) {
    try (DataOutputStream images =
            new DataOutputStream(Files.newOutputStream(dir.resolve(imagesName)));
        DataOutputStream labels =
            new DataOutputStream(Files.newOutputStream(dir.resolve(labelsName)))) {
      images.writeInt(2051); // IDX3, unsigned bytes
      images.writeInt(set.count());
      images.writeInt(MnistSet.ROWS);
      images.writeInt(MnistSet.COLS);
      images.write(set.images(), 0, set.count() * MnistSet.IMAGE_BYTES);
      labels.writeInt(2049); // IDX1, unsigned bytes
      labels.writeInt(set.count());
      labels.write(set.labels(), 0, set.count());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
