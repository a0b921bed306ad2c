import ai.djl.Device;
import java.nio.file.*;
import lenet.contract.dataset.DatasetReader.SplitData;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.trainer.training.*;

/**
 * Peak native memory per image of a training batch (RunLimits.BYTES_PER_IMAGE): java -cp ...
 * BatchMemory <batch>.
 */
public class BatchMemory {
  static long hwm() throws Exception {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith("VmHWM:")) return Long.parseLong(l.replaceAll("\\D", "")) * 1024;
    }
    return -1;
  }

  static SplitData split(Split s, int n) {
    float[] p = new float[n * 784];
    byte[] y = new byte[n];
    java.util.Random r = new java.util.Random(1);
    for (int i = 0; i < p.length; i++) p[i] = r.nextFloat();
    for (int i = 0; i < n; i++) y[i] = (byte) r.nextInt(10);
    return new SplitData(s, p, y);
  }

  public static void main(String[] a) throws Exception {
    int b = Integer.parseInt(a[0]);
    TrainingData small =
        new TrainingData("x", split(Split.TRAIN, 64), split(Split.DEV, 64), split(Split.TEST, 64));
    RunSpec warm = new RunSpec("w", 1, 64, 0.001, "adam", 1, "constant", Augmentation.NONE, null);
    Training.run(warm, small, Device.cpu(), (e, m, t, p) -> {});
    long before = hwm();
    TrainingData data =
        new TrainingData("x", split(Split.TRAIN, b), split(Split.DEV, 64), split(Split.TEST, 64));
    long afterData = hwm();
    RunSpec spec = new RunSpec("m", 1, b, 0.001, "adam", 1, "constant", Augmentation.NONE, null);
    Training.run(spec, data, Device.cpu(), (e, m, t, p) -> {});
    long after = hwm();
    System.out.printf(
        "batch %d: peak grew %d MB over the data (%d KB per image)%n",
        b, (after - afterData) >> 20, (after - afterData) / b >> 10);
  }
}
