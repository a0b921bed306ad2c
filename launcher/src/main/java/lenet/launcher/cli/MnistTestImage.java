package lenet.launcher.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * One MNIST test image by its index (0..9999), read from the local files {@code up} uses ({@code
 * data/mnist/t10k-*}, raw or .gz): its 784 pixels (row-major, 0..255) and its true label. The
 * inference API scores images, it keeps no dataset to look one up by index.
 */
record MnistTestImage(int index, byte[] pixels, int label) {

  static final String IMAGES = "t10k-images-idx3-ubyte";
  static final String LABELS = "t10k-labels-idx1-ubyte";
  static final int PIXELS = 28 * 28;

  static MnistTestImage read(Path dir, int index) throws IOException {
    byte[] pixels = bytes(dir, IMAGES, 16 + (long) index * PIXELS, PIXELS, index);
    byte[] label = bytes(dir, LABELS, 8 + (long) index, 1, index);
    return new MnistTestImage(index, pixels, label[0] & 0xFF);
  }

  private static byte[] bytes(Path dir, String name, long offset, int length, int index)
      throws IOException {
    Path raw = dir.resolve(name);
    Path gz = dir.resolve(name + ".gz");
    byte[] out = new byte[length];
    if (Files.exists(raw)) {
      try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "r")) {
        if (offset + length > f.length()) {
          throw outOfRange(raw, index);
        }
        f.seek(offset);
        f.readFully(out);
      }
      return out;
    }
    if (Files.exists(gz)) {
      try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
        in.skipNBytes(offset);
        if (in.readNBytes(out, 0, length) < length) {
          throw outOfRange(gz, index);
        }
      } catch (java.io.EOFException e) {
        throw outOfRange(gz, index);
      }
      return out;
    }
    throw new CliException(
        "no MNIST test files in " + dir + " (" + name + "[.gz]; ./pipeline up fetches them)", 1);
  }

  private static CliException outOfRange(Path file, int index) {
    return new CliException("no test image #" + index + " in " + file + " (0..9999)", 2);
  }
}
