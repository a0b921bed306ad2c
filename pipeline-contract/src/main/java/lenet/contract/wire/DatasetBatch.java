package lenet.contract.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32C;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * One batch of preprocessed MNIST images on a dataset topic: float32 pixels in [0,1], NCHW {@code
 * (count,1,28,28)}, and class-index labels. Binary, little endian, versioned:
 *
 * <pre>
 * int   magic 'MNB1'      short format version (1)   byte split   byte dtype (1 = float32)
 * int   batch index       int first image index in the split      int count
 * int   channels          int rows    int cols
 * byte  labels[count]     float pixels[count*channels*rows*cols]
 * int   CRC32C of everything before it
 * </pre>
 */
public record DatasetBatch(
    Split split, int batchIndex, int firstIndex, byte[] labels, float[] pixels) {

  public enum Split {
    TRAIN,
    DEV,
    TEST
  }

  public static final int MAGIC = 0x4D4E4231; // "MNB1"
  public static final short FORMAT_VERSION = 1;
  public static final byte DTYPE_FLOAT32 = 1;
  public static final int CHANNELS = 1;
  public static final int ROWS = 28;
  public static final int COLS = 28;
  public static final int IMAGE_SIZE = CHANNELS * ROWS * COLS;
  private static final int HEADER = 4 + 2 + 1 + 1 + 4 * 6;

  public DatasetBatch {
    Objects.requireNonNull(split, "split");
    if (pixels.length != labels.length * IMAGE_SIZE) {
      throw new IllegalArgumentException(
          "pixels hold " + pixels.length + " values for " + labels.length + " labels");
    }
  }

  public int count() {
    return labels.length;
  }

  public byte[] encode() {
    ByteBuffer buf =
        ByteBuffer.allocate(HEADER + labels.length + pixels.length * 4 + 4)
            .order(ByteOrder.LITTLE_ENDIAN);
    buf.putInt(MAGIC).putShort(FORMAT_VERSION).put((byte) split.ordinal()).put(DTYPE_FLOAT32);
    buf.putInt(batchIndex).putInt(firstIndex).putInt(labels.length);
    buf.putInt(CHANNELS).putInt(ROWS).putInt(COLS);
    buf.put(labels);
    buf.asFloatBuffer().put(pixels);
    buf.position(buf.position() + pixels.length * 4);
    CRC32C crc = new CRC32C();
    crc.update(buf.array(), 0, buf.position());
    buf.putInt((int) crc.getValue());
    return buf.array();
  }

  /**
   * Decodes a batch, checking magic, version, dtype, shape, length and checksum.
   *
   * @throws WireFormatException with reason {@code BAD_BINARY_FORMAT} naming the problem
   */
  public static DatasetBatch decode(byte[] bytes) {
    if (bytes == null || bytes.length < HEADER + 4) {
      throw bad("is " + (bytes == null ? 0 : bytes.length) + " bytes, shorter than the header");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int magic = buf.getInt();
    if (magic != MAGIC) {
      throw bad("has magic 0x" + Integer.toHexString(magic) + ", expected 0x4d4e4231 ('MNB1')");
    }
    short version = buf.getShort();
    if (version != FORMAT_VERSION) {
      throw bad("has format version " + version + "; this build reads version " + FORMAT_VERSION);
    }
    int splitOrdinal = buf.get();
    if (splitOrdinal < 0 || splitOrdinal >= Split.values().length) {
      throw bad("names unknown split " + splitOrdinal);
    }
    byte dtype = buf.get();
    if (dtype != DTYPE_FLOAT32) {
      throw bad("has dtype " + dtype + "; only 1 (float32) is defined");
    }
    int batchIndex = buf.getInt();
    int firstIndex = buf.getInt();
    int count = buf.getInt();
    int channels = buf.getInt();
    int rows = buf.getInt();
    int cols = buf.getInt();
    if (channels != CHANNELS || rows != ROWS || cols != COLS) {
      throw bad("has image shape " + channels + "x" + rows + "x" + cols + ", expected 1x28x28");
    }
    long expected = (long) HEADER + count + (long) count * IMAGE_SIZE * 4 + 4;
    if (count < 0 || expected != bytes.length) {
      throw bad("is " + bytes.length + " bytes, but " + count + " images need " + expected);
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, bytes.length - 4);
    int stored =
        ByteBuffer.wrap(bytes, bytes.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if ((int) crc.getValue() != stored) {
      throw bad("fails its CRC32C check: the record is corrupt");
    }
    byte[] labels = new byte[count];
    buf.get(labels);
    for (int i = 0; i < count; i++) {
      if (labels[i] < 0 || labels[i] > 9) {
        throw bad("has label " + labels[i] + " at " + i + ", outside 0..9");
      }
    }
    float[] pixels = new float[count * IMAGE_SIZE];
    buf.asFloatBuffer().get(pixels);
    return new DatasetBatch(Split.values()[splitOrdinal], batchIndex, firstIndex, labels, pixels);
  }

  private static WireFormatException bad(String problem) {
    return new WireFormatException(Reason.BAD_BINARY_FORMAT, "dataset batch " + problem);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DatasetBatch b
        && split == b.split
        && batchIndex == b.batchIndex
        && firstIndex == b.firstIndex
        && Arrays.equals(labels, b.labels)
        && Arrays.equals(pixels, b.pixels);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        split, batchIndex, firstIndex, Arrays.hashCode(labels), Arrays.hashCode(pixels));
  }

  @Override
  public String toString() {
    return "DatasetBatch[" + split + " #" + batchIndex + ", " + labels.length + " images]";
  }
}
