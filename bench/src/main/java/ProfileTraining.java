import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Path;
import lenet.contract.wire.TrainingCommand;
import lenet.model.NativeMemory;
import lenet.trainer.training.RunSpec;
import lenet.trainer.training.Training;
import lenet.trainer.training.TrainingData;

/**
 * Where a training step's time goes, per libtorch operation: trains {@code steps} steps of the
 * trainer's default run (its settings as {@link TrainInMemory} builds them) on the first training
 * images, after the service's JIT warm-up, under libtorch's profiler, and writes its Chrome trace
 * to {@code out}; {@code bench/profile_ops.py} sums it per operation. The wall seconds of the
 * profiled steps and of as many unprofiled ones are printed beside it as one JSON line, so the
 * profiler's own cost shows.
 *
 * <p>{@code java -cp <trainer classpath> ProfileTraining <mnist dir> <steps> <out.json>}
 */
public class ProfileTraining {

  public static void main(String[] args) {
    Path dir = Path.of(args[0]);
    int steps = Integer.parseInt(args[1]);
    String out = args[2];
    if (TrainInMemory.trainerDefaults().keepFreedNativeMemory()) {
      NativeMemory.keepFreedMemory();
    }
    TrainingData all = TrainInMemory.load(dir);
    RunSpec spec =
        RunSpec.of(
            "profile",
            new TrainingCommand(null, 1, null, null, null, null, null),
            TrainInMemory.trainerDefaults());
    int images = Math.min(all.train().count(), steps * spec.batchSize());
    TrainingData data =
        new TrainingData(
            "profile",
            TrainInMemory.head(all.train(), images),
            TrainInMemory.head(all.dev(), 1000),
            TrainInMemory.head(all.test(), 1000));
    Training.warmUp(spec, Device.cpu(), TrainInMemory.trainerDefaults().jitWarmUpSteps());
    double plain =
        Training.run(spec, data, Device.cpu(), (e, m, t, p) -> {}).history().get(0).seconds();
    JniUtils.startProfile(false, true, false);
    double profiled;
    try {
      profiled =
          Training.run(spec, data, Device.cpu(), (e, m, t, p) -> {}).history().get(0).seconds();
    } finally {
      JniUtils.stopProfile(out);
    }
    System.out.printf(
        java.util.Locale.ROOT,
        "{\"steps\":%d,\"batch\":%d,\"secondsPlain\":%.4f,\"secondsProfiled\":%.4f,\"trace\":\"%s\"}%n",
        (images + spec.batchSize() - 1) / spec.batchSize(),
        spec.batchSize(),
        plain,
        profiled,
        out);
    System.exit(0);
  }
}
