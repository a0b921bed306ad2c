package lenet.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.DatasetBatch;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;
import org.junit.jupiter.api.Test;

class BinaryFormatTest {

  private static DatasetBatch sampleBatch(int count) {
    Random r = new Random(1);
    byte[] labels = new byte[count];
    float[] pixels = new float[count * DatasetBatch.IMAGE_SIZE];
    for (int i = 0; i < count; i++) {
      labels[i] = (byte) r.nextInt(10);
    }
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = r.nextInt(256) / 255f;
    }
    return new DatasetBatch(Split.DEV, 3, 750, labels, pixels);
  }

  @Test
  void datasetBatchRoundTripsBitExact() {
    DatasetBatch batch = sampleBatch(250);
    byte[] bytes = batch.encode();
    assertThat(bytes).hasSize(32 + 250 + 250 * 784 * 4 + 4);
    assertThat(DatasetBatch.decode(bytes)).isEqualTo(batch);
  }

  @Test
  void corruptBatchesAreRefusedWithTheProblem() {
    byte[] good = sampleBatch(4).encode();
    assertBad(new byte[0], "shorter than the header");
    assertBad(Arrays.copyOf(good, good.length - 10), "but 4 images need");
    byte[] flipped = good.clone();
    flipped[100] ^= 1;
    assertBad(flipped, "CRC32C");
    byte[] magic = good.clone();
    magic[0] = 'X';
    assertBad(magic, "magic");
    byte[] version = good.clone();
    version[4] = 9;
    assertBad(version, "format version 9");
  }

  private static void assertBad(byte[] bytes, String message) {
    WireFormatException e = WireFormatTest.assertThrowsWire(() -> DatasetBatch.decode(bytes));
    assertThat(e.reason()).isEqualTo(Reason.BAD_BINARY_FORMAT);
    assertThat(e.getMessage()).contains(message);
  }

  @Test
  void checkpointRoundTripsAndDetectsTampering() {
    byte[] params = new byte[253_000];
    new Random(2).nextBytes(params);
    Checkpoint.Header header =
        new Checkpoint.Header(
            "lenet5",
            12,
            "run-1",
            3,
            5,
            "arch",
            62698,
            Checkpoint.sha256(params),
            1L,
            0.1,
            0.97,
            0.09,
            0.98,
            null,
            null,
            0.75,
            8);
    Checkpoint cp = new Checkpoint(header, params);
    Checkpoint back = Checkpoint.decode(cp.encode());
    assertThat(back.header()).isEqualTo(header);
    assertThat(header.toBuilder().build()).as("the builder carries every field").isEqualTo(header);
    assertThat(back.parameters()).isEqualTo(params);

    byte[] tampered = cp.encode();
    tampered[tampered.length - 1] ^= 1;
    WireFormatException e = WireFormatTest.assertThrowsWire(() -> Checkpoint.decode(tampered));
    assertThat(e.getMessage()).contains("v12 fails its SHA-256 check");

    byte[] truncated = Arrays.copyOf(cp.encode(), 5000);
    assertThat(WireFormatTest.assertThrowsWire(() -> Checkpoint.decode(truncated)).getMessage())
        .contains("parameter bytes but holds");
  }
}
