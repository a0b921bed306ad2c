import ai.djl.Device;
import ai.djl.engine.Engine;
import io.smallrye.config.WithDefault;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import lenet.contract.dataset.DatasetReader.SplitData;
import lenet.contract.dataset.MnistSet;
import lenet.contract.wire.DatasetBatch.Split;
import lenet.contract.wire.TrainingCommand;
import lenet.contract.wire.TrainingEvent.EpochMetrics;
import lenet.mnist.MnistFiles;
import lenet.trainer.TrainerConfig;
import lenet.trainer.training.Recipe;
import lenet.trainer.training.RunSpec;
import lenet.trainer.training.Training;
import lenet.trainer.training.TrainingData;

/**
 * B1 peer: the trainer's own training function, {@code Training.run}, fed from memory (the IDX
 * files, with ingest's preprocessing: bytes / 255, the last 20% of train as dev) instead of Kafka.
 * The run's settings come from the trainer's own {@code RunSpec.of} over the trainer's {@code
 * TrainerConfig} defaults and its application.properties, exactly as the service builds them for a
 * command {@code {"epochs": N}} (batch 128, Adam 1e-3, cosine schedule, augmentation, seed 42).
 * {@code -Dtrainer.<key>=<value>} overrides a setting as it does for the service. Threads: {@code
 * -Dai.djl.pytorch.num_threads}. The MNIST directory must hold the original files unless {@code
 * -Dbench.verify-checksums=false}. Prints one JSON line.
 *
 * <p>{@code java -cp <trainer classpath> TrainInMemory <mnist dir> <epochs>}
 */
public class TrainInMemory {

  public static void main(String[] args) {
    if (trainerDefaults().keepFreedNativeMemory()) { // as TrainerStartup does
      lenet.model.NativeMemory.keepFreedMemory();
    }
    Path dir = Path.of(args[0]);
    int epochs = Integer.parseInt(args[1]);
    long t0 = System.nanoTime();
    TrainingData data = load(dir);
    double loadSeconds = (System.nanoTime() - t0) / 1e9;
    RunSpec spec =
        RunSpec.of(
            "in-memory",
            new TrainingCommand(null, epochs, null, null, null, null, null),
            trainerDefaults());
    if (epochs == 0) { // the settings only: bench/run gives them to the PyTorch peer
      Recipe r = spec.recipe();
      System.out.printf(
          Locale.ROOT,
          "{\"spec\":\"%s\",\"batchSize\":%d,\"optimizer\":\"%s\",\"learningRate\":%s,"
              + "\"shift\":%d,\"warmUpEpochs\":%s,\"labelSmoothing\":%s,\"emaDecay\":%s,"
              + "\"weightDecay\":%s,\"batchNormImages\":%d}%n",
          spec.toString().replace("\"", "'"),
          spec.batchSize(),
          spec.optimizer(),
          spec.learningRate(),
          spec.augmentation().shift(),
          r.warmUpEpochs(),
          r.labelSmoothing(),
          r.emaDecay(),
          r.weightDecay(),
          r.batchNormImages());
      System.exit(0);
    }
    // The JIT warm-up the trainer service runs at start (trainer.jit-warm-up-steps), timed apart.
    double warmUpSeconds = Training.warmUp(spec, Device.cpu(), trainerDefaults().jitWarmUpSteps());
    List<EpochMetrics> epochsSeen = new ArrayList<>();
    Training.Result result =
        Training.run(spec, data, Device.cpu(), (e, m, t, p) -> epochsSeen.add(m));
    StringBuilder json =
        new StringBuilder("{\"spec\":\"" + spec.toString().replace("\"", "'") + "\",");
    json.append("\"framework\":\"djl ")
        .append(Engine.getEngine("PyTorch").getVersion())
        .append("\",\"threads\":\"")
        .append(System.getProperty("ai.djl.pytorch.num_threads", "default"))
        .append("\",\"loadSeconds\":")
        .append(fmt(loadSeconds))
        .append(",\"warmUpSeconds\":")
        .append(fmt(warmUpSeconds));
    json.append(",\"epochSeconds\":").append(list(epochsSeen, EpochMetrics::seconds));
    json.append(",\"imagesPerSecond\":").append(list(epochsSeen, EpochMetrics::imagesPerSecond));
    json.append(",\"devAccuracy\":").append(list(epochsSeen, EpochMetrics::devAccuracy));
    json.append(",\"devLoss\":").append(list(epochsSeen, EpochMetrics::devLoss));
    if (epochsSeen.get(0).rawDevAccuracy() != null) { // a moving average of the weights is kept
      json.append(",\"rawDevAccuracy\":")
          .append(list(epochsSeen, m -> m.rawDevAccuracy().doubleValue()));
    }
    json.append(",\"testAccuracy\":").append(fmt(result.test().accuracy()));
    json.append(",\"peakRssMb\":").append(fmt(peakRssMb())).append("}");
    System.out.println(json);
    System.exit(0); // DJL's engine threads must not keep the JVM alive
  }

  /**
   * The IDX files as ingest preprocesses them: bytes / 255, the last 20% of train as dev. {@code
   * -Dbench.train-images=N} and {@code -Dbench.test-images=M} keep only the files' first N and M
   * images (before the dev split), as the trainer's tests publish them.
   */
  static TrainingData load(Path dir) {
    MnistFiles files =
        new MnistFiles(
            dir, Boolean.parseBoolean(System.getProperty("bench.verify-checksums", "true")));
    MnistSet train = files.train();
    MnistSet test = files.test();
    int trainImages = Integer.getInteger("bench.train-images", train.count());
    int dev = (int) Math.round(trainImages * 0.2);
    int trainCount = trainImages - dev;
    return new TrainingData(
        "in-memory",
        split(Split.TRAIN, train, 0, trainCount),
        split(Split.DEV, train, trainCount, dev),
        split(Split.TEST, test, 0, Integer.getInteger("bench.test-images", test.count())));
  }

  /** The first {@code n} images of a split. */
  static SplitData head(SplitData split, int n) {
    return new SplitData(
        split.split(),
        java.util.Arrays.copyOf(split.pixels(), n * MnistSet.IMAGE_BYTES),
        java.util.Arrays.copyOf(split.labels(), n));
  }

  private static SplitData split(Split split, MnistSet set, int from, int count) {
    float[] pixels = new float[count * MnistSet.IMAGE_BYTES];
    byte[] labels = new byte[count];
    for (int i = 0; i < count; i++) {
      for (int p = 0; p < MnistSet.IMAGE_BYTES; p++) {
        pixels[i * MnistSet.IMAGE_BYTES + p] = set.pixel(from + i, p) / 255f;
      }
      labels[i] = set.labels()[from + i];
    }
    return new SplitData(split, pixels, labels);
  }

  /**
   * The trainer's configuration as the service sees it without overrides: each key's {@code
   * trainer.*} value from the trainer's application.properties, else its {@code @WithDefault}.
   */
  static TrainerConfig trainerDefaults() {
    Properties props = new Properties();
    try (InputStream in =
        TrainerConfig.class.getClassLoader().getResourceAsStream("application.properties")) {
      if (in != null) {
        props.load(in);
      }
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the trainer's application.properties", e);
    }
    return (TrainerConfig)
        Proxy.newProxyInstance(
            TrainerConfig.class.getClassLoader(),
            new Class<?>[] {TrainerConfig.class},
            (proxy, method, args) -> configValue(method, props));
  }

  private static Object configValue(Method m, Properties props) {
    String key = "trainer." + m.getName().replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
    String value = System.getProperty(key, props.getProperty(key)); // -Dtrainer.x=y, as the service
    if (value == null && m.getAnnotation(WithDefault.class) != null) {
      value = m.getAnnotation(WithDefault.class).value();
    }
    Class<?> t = m.getReturnType();
    if (t == Optional.class) {
      return value == null ? Optional.empty() : Optional.of(Integer.valueOf(value));
    }
    if (value == null) {
      return null;
    }
    if (t == int.class) {
      return Integer.valueOf(value);
    } else if (t == long.class) {
      return Long.valueOf(value);
    } else if (t == double.class) {
      return Double.valueOf(value);
    } else if (t == float.class) {
      return Float.valueOf(value);
    } else if (t == boolean.class) {
      return Boolean.valueOf(value);
    } else if (t == String.class) {
      return value;
    }
    return null; // e.g. the dataset wait, which training does not use
  }

  static double peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (Exception e) {
      // not Linux
    }
    return Double.NaN;
  }

  private static String list(
      List<EpochMetrics> ms, java.util.function.ToDoubleFunction<EpochMetrics> f) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < ms.size(); i++) {
      b.append(i == 0 ? "" : ",").append(fmt(f.applyAsDouble(ms.get(i))));
    }
    return b.append("]").toString();
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.6f", v);
  }
}
