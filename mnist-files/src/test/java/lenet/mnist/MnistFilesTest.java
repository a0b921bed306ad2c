package lenet.mnist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import lenet.contract.dataset.MnistSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real MNIST files and their validation: each kind of damage is named, each missing file too.
 */
class MnistFilesTest {

  static MnistFiles files;

  @BeforeAll
  static void fetch() {
    files =
        new MnistFiles(Path.of(System.getProperty("mnist.dir", "data/mnist")), true)
            .ensurePresent();
  }

  @Test
  void realFilesParseWithTheGenuineLabelCounts() {
    MnistSet train = files.train();
    MnistSet test = files.test();
    assertThat(train.count()).isEqualTo(60_000);
    assertThat(test.count()).isEqualTo(10_000);
    assertThat(train.labelCounts())
        .containsExactly(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949);
    assertThat(test.labelCounts())
        .containsExactly(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009);
  }

  @Test
  void eachKindOfCorruptFileHasItsOwnMessage(@TempDir Path dir) throws IOException {
    byte[] images = Files.readAllBytes(files.find(MnistFiles.TEST_IMAGES));
    byte[] labels = Files.readAllBytes(files.find(MnistFiles.TEST_LABELS));
    byte[] trainLabels = Files.readAllBytes(files.find(MnistFiles.TRAIN_LABELS));

    byte[] badMagic = images.clone();
    ByteBuffer.wrap(badMagic).putInt(0, 2049);
    assertThat(testSetError(dir, badMagic, labels))
        .contains("t10k-images-idx3-ubyte has magic number 2049");

    byte[] truncated = java.util.Arrays.copyOf(images, images.length - 100);
    assertThat(testSetError(dir, truncated, labels)).contains("is truncated").contains("7840016");

    byte[] fewerLabels = java.util.Arrays.copyOf(labels, 8 + 9_999);
    ByteBuffer.wrap(fewerLabels).putInt(4, 9_999);
    assertThat(testSetError(dir, images, fewerLabels))
        .contains("holds 9999 labels but")
        .contains("10000 images");

    assertThat(testSetError(dir, images, trainLabels))
        .contains("60000 labels")
        .contains("do not belong together");

    byte[] altered = images.clone();
    altered[5000] ^= 1;
    assertThat(testSetError(dir, altered, labels)).contains("is not the original MNIST file");
  }

  private static String testSetError(Path dir, byte[] images, byte[] labels) throws IOException {
    Files.write(dir.resolve(MnistFiles.TEST_IMAGES), images);
    Files.write(dir.resolve(MnistFiles.TEST_LABELS), labels);
    try {
      new MnistFiles(dir, true).test();
    } catch (MnistFormatException e) {
      return e.getMessage();
    }
    throw new AssertionError("corrupt file accepted");
  }

  @Test
  void missingFilesSayWhatToPutWhere(@TempDir Path dir) {
    assertThatThrownBy(() -> new MnistFiles(dir, true).train())
        .isInstanceOf(MnistFormatException.class)
        .hasMessageContaining("Missing " + dir.toAbsolutePath().resolve(MnistFiles.TRAIN_IMAGES));
  }
}
