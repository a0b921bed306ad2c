package lenet.trainer.training;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.CosineTracker;
import ai.djl.training.tracker.Tracker;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import lenet.contract.dataset.DatasetReader.SplitData;
import lenet.contract.wire.DatasetBatch;
import lenet.contract.wire.TrainingEvent.EpochMetrics;
import lenet.model.HostBuffers;
import lenet.model.LeNet5;
import lenet.model.ModelIO;

/**
 * Trains the tutorial's LeNet-5 on data in memory with DJL on the PyTorch engine: shuffles each
 * epoch with the run's seed, evaluates dev after each epoch and test at the end. A function that
 * returns its result; what to do with each epoch (events, checkpoints) is the caller's {@link
 * Listener}.
 */
public final class Training {

  /** Told after each epoch, with the parameters as they stand (DJL's parameter stream). */
  public interface Listener {
    /**
     * @param test the test-set metrics, evaluated before the last epoch is reported; null for
     *     earlier epochs
     */
    void onEpoch(int epoch, EpochMetrics metrics, Evaluation test, byte[] parameters);
  }

  /**
   * @param feedback the held-out feedback images' metrics after the last epoch; null without
   */
  public record Result(
      List<EpochMetrics> history, Evaluation test, Evaluation feedback, double seconds) {}

  /**
   * Where a run starts: from scratch ({@link #FRESH}), or after epoch {@code afterEpoch} from that
   * epoch's parameters (a run resumed from its last checkpoint). The shuffle of each epoch and the
   * learning-rate schedule are those of the uninterrupted run; the optimizer's own state (Adam's
   * moments) starts afresh, as checkpoints hold the model, not the optimizer.
   */
  public record Start(int afterEpoch, byte[] parameters) {
    public static final Start FRESH = new Start(0, null);
  }

  private Training() {}

  /** The device {@code setting} names: auto (GPU when visible), cpu or gpu. */
  public static Device device(String setting) {
    return switch (setting) {
      case "cpu" -> Device.cpu();
      case "gpu" -> {
        java.util.Optional<String> why = lenet.model.Gpus.absence();
        if (why.isPresent()) {
          throw new IllegalStateException(
              "trainer.device=gpu but "
                  + why.get()
                  + "; run the GPU image (trainer-service/src/main/docker/Dockerfile.gpu,"
                  + " docs/operations.md#gpu), or use auto/cpu");
        }
        yield Device.gpu();
      }
      case "auto" -> lenet.model.Gpus.count() > 0 ? Device.gpu() : Device.cpu();
      default ->
          throw new IllegalArgumentException(
              "trainer.device must be auto, cpu or gpu, got " + setting);
    };
  }

  /**
   * Trains a throwaway model for {@code steps} steps of 4 random images with {@code like}'s
   * optimizer, schedule and augmentation, so that the JIT has compiled DJL's per-step Java code
   * (hundreds of small calls per step around libtorch) before a real run. Measured per 25 steps, a
   * fresh process's first epoch went from 24 ms a step down to 15 over its 375 steps, with C2 or
   * with C1 alone, while a second run in the same JVM started at 15: 200 warm-up steps (~2 s) bring
   * the first epoch to the later ones' time. Runs on the calling thread, which must be the one that
   * trains ({@link NetworkSummary} says why); returns its seconds.
   */
  public static double warmUp(RunSpec like, Device device, int steps) {
    long t0 = System.nanoTime();
    int batch = 4;
    Random random = new Random(1);
    TrainingData data =
        new TrainingData(
            "jit-warm-up",
            randomImages(DatasetBatch.Split.TRAIN, steps * batch, random),
            randomImages(DatasetBatch.Split.DEV, 16, random),
            randomImages(DatasetBatch.Split.TEST, 16, random));
    RunSpec spec =
        new RunSpec(
            "jit-warm-up",
            1,
            batch,
            like.learningRate(),
            like.optimizer(),
            1,
            like.schedule(),
            like.augmentation(),
            null,
            like.recipe());
    run(spec, data, device, (epoch, metrics, test, parameters) -> {});
    return (System.nanoTime() - t0) / 1e9;
  }

  static SplitData randomImages(DatasetBatch.Split split, int n, Random random) {
    float[] pixels = new float[n * DatasetBatch.IMAGE_SIZE];
    byte[] labels = new byte[n];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = random.nextFloat();
    }
    for (int i = 0; i < n; i++) {
      labels[i] = (byte) random.nextInt(10);
    }
    return new SplitData(split, pixels, labels);
  }

  public static Result run(RunSpec spec, TrainingData data, Device device, Listener listener) {
    return run(spec, data, device, listener, Start.FRESH);
  }

  /**
   * Trains epochs {@code from.afterEpoch() + 1} to {@code spec.epochs()}. Autograd records only
   * inside each step's gradient collector, on whichever thread this runs: libtorch's grad mode is
   * per thread and on by default, and DJL turns it off only on the thread that started the engine,
   * so on any other thread evaluation and the loss sums would be recorded too (graphs kept alive,
   * time spent). The thread's own setting is put back at the end.
   */
  public static Result run(
      RunSpec spec, TrainingData data, Device device, Listener listener, Start from) {
    // JniUtils needs libtorch loaded, which only the engine does: in a JVM where nothing else has
    // touched it yet (a bench driver, a tool), the first JNI call would fail to link.
    Engine.getEngine("PyTorch");
    boolean gradMode = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try {
      return train(spec, data, device, listener, from);
    } finally {
      JniUtils.setGradMode(gradMode);
    }
  }

  private static Result train(
      RunSpec spec, TrainingData data, Device device, Listener listener, Start from) {
    long start = System.nanoTime();
    Engine.getEngine("PyTorch").setRandomSeed((int) spec.seed());
    int steps = (data.train().count() + spec.batchSize() - 1) / spec.batchSize();
    Recipe recipe = spec.recipe();
    Loss loss =
        recipe.labelSmoothing() > 0
            ? new SmoothedCrossEntropy(recipe.labelSmoothing())
            : Loss.softmaxCrossEntropyLoss();
    DefaultTrainingConfig config =
        new DefaultTrainingConfig(loss)
            .optOptimizer(optimizer(spec, steps, from.afterEpoch() * steps))
            .optDevices(new Device[] {device});
    List<EpochMetrics> history = new ArrayList<>();
    try (Model model = Model.newInstance(LeNet5.MODEL_NAME, device, "PyTorch")) {
      ai.djl.nn.SequentialBlock block = LeNet5.newBlock();
      // Trained through the phase layout of its first layers; the block itself is what is
      // evaluated and checkpointed.
      model.setBlock(new PhasedLeNet5(block));
      if (from.parameters() != null) {
        // Loaded before the trainer initializes the block: initialization keeps parameters that
        // have values and attaches their gradients.
        ModelIO.loadParameters(block, model.getNDManager(), from.parameters());
      }
      try (Trainer trainer = model.newTrainer(config)) {
        trainer.initialize(PhasedLeNet5.INPUT_SHAPE);
        WeightAverage average =
            recipe.emaDecay() > 0
                ? new WeightAverage(block, trainer.getManager(), recipe.emaDecay())
                : null;
        // What is evaluated, reported and checkpointed: the average when the run keeps one.
        Block kept = average != null ? average.block() : block;
        DecoupledWeightDecay decay =
            "adamw".equals(spec.optimizer()) && recipe.weightDecay() > 0
                ? new DecoupledWeightDecay(block, recipe.weightDecay(), schedule(spec, steps))
                : null;
        // The batches' native buffers, reused by every step of every epoch of the run.
        BatchInput input = new BatchInput(data.train(), spec.augmentation(), spec.batchSize());
        HostBuffers samples = new HostBuffers(); // the BatchNorm calibrations' sample
        Evaluation test = null;
        Evaluation feedback = null;
        for (int epoch = from.afterEpoch() + 1; epoch <= spec.epochs(); epoch++) {
          if (Thread.currentThread().isInterrupted()) {
            throw new IllegalStateException(
                "run " + spec.runId() + " was interrupted at epoch " + epoch);
          }
          long t0 = System.nanoTime();
          Evaluation train = trainEpoch(trainer, input, spec, epoch, average, decay);
          double seconds = (System.nanoTime() - t0) / 1e9;
          if (recipe.batchNormImages() > 0) {
            // Before evaluation: the statistics the evaluated (and checkpointed) network uses.
            Random random = new Random(spec.seed() * 1_000_003L - epoch);
            for (Block b : average != null ? List.<Block>of(block, kept) : List.<Block>of(block)) {
              BatchNormCalibration.calibrate(
                  b,
                  trainer.getManager(),
                  data.train(),
                  recipe.batchNormImages(),
                  spec.augmentation(),
                  random,
                  samples);
            }
          }
          Evaluation dev = Evaluation.of(kept, device, data.dev());
          Double rawDev =
              average != null ? Evaluation.of(block, device, data.dev()).accuracy() : null;
          feedback = Evaluation.ofFeedback(kept, device, data);
          if (epoch == spec.epochs()) {
            test = Evaluation.of(kept, device, data.test());
          }
          EpochMetrics m =
              new EpochMetrics(
                  train.loss(),
                  train.accuracy(),
                  dev.loss(),
                  dev.accuracy(),
                  seconds,
                  data.train().count() / seconds,
                  feedback != null ? feedback.accuracy() : null,
                  feedback != null ? data.feedback().count() : null,
                  rawDev);
          history.add(m);
          listener.onEpoch(epoch, m, test, ModelIO.parameters(kept));
        }
        if (test == null) {
          // Resumed after its last epoch (only the run's end was missing): measure it.
          test = Evaluation.of(kept, device, data.test());
          feedback = Evaluation.ofFeedback(kept, device, data);
        }
        return new Result(List.copyOf(history), test, feedback, (System.nanoTime() - start) / 1e9);
      }
    }
  }

  /**
   * @param stepsDone the steps of the epochs before this start: the schedule goes on from there
   */
  private static Optimizer optimizer(RunSpec spec, int stepsPerEpoch, int stepsDone) {
    Tracker schedule = schedule(spec, stepsPerEpoch);
    Tracker tracker =
        stepsDone == 0 ? schedule : update -> schedule.getNewValue(update + stepsDone);
    // Weight decay is adamw's alone (decoupled, applied by the loop: DecoupledWeightDecay).
    return switch (spec.optimizer()) {
      case "adam", "adamw" -> Optimizer.adam().optLearningRateTracker(tracker).build();
      case "sgd" -> Optimizer.sgd().setLearningRateTracker(tracker).optMomentum(0.9f).build();
      case "adagrad" -> Optimizer.adagrad().optLearningRateTracker(tracker).build();
      case "rmsprop" -> Optimizer.rmsprop().optLearningRateTracker(tracker).build();
      default -> throw new IllegalArgumentException("unknown optimizer " + spec.optimizer());
    };
  }

  /**
   * The learning rate at each step of the whole run: a linear rise from 0 over the recipe's warm-up
   * steps, then the schedule (constant, or cosine to 1% of the rate) over the remaining steps.
   */
  static Tracker schedule(RunSpec spec, int stepsPerEpoch) {
    float lr = (float) spec.learningRate();
    int total = Math.max(1, stepsPerEpoch * spec.epochs());
    int warmUp =
        (int) Math.min(total - 1, Math.round(spec.recipe().warmUpEpochs() * stepsPerEpoch));
    Tracker main =
        switch (spec.schedule()) {
          case "constant" -> Tracker.fixed(lr);
          case "cosine" ->
              CosineTracker.builder()
                  .setBaseValue(lr)
                  .optFinalValue(lr * 0.01f)
                  .setMaxUpdates(Math.max(1, total - warmUp))
                  .build();
          default -> throw new IllegalArgumentException("unknown schedule " + spec.schedule());
        };
    if (warmUp <= 0) {
      return main;
    }
    return update ->
        update < warmUp
            ? lr * (update + 1) / (float) (warmUp + 1)
            : main.getNewValue(update - warmUp);
  }

  /**
   * One pass over the shuffled training split. Loss and correct counts add up in native memory and
   * are read once at the end of the epoch, so no step waits for the device (on a GPU, each read is
   * a synchronization).
   */
  private static Evaluation trainEpoch(
      Trainer trainer,
      BatchInput input,
      RunSpec spec,
      int epoch,
      WeightAverage average,
      DecoupledWeightDecay decay) {
    int n = input.images();
    // The run's step count at this epoch's start: where the schedule stands (also when resumed).
    int step = (epoch - 1) * ((n + spec.batchSize() - 1) / spec.batchSize());
    Random random = new Random(spec.seed() * 1_000_003L + epoch);
    int[] order = permutation(n, random);
    try (NDManager totals = trainer.getManager().newSubManager()) {
      NDArray lossSum = totals.zeros(new Shape(), DataType.FLOAT32);
      NDArray correct = totals.zeros(new Shape(), DataType.FLOAT32);
      for (int start = 0; start < n; start += spec.batchSize()) {
        int size = Math.min(spec.batchSize(), n - start);
        try (NDManager batch = trainer.getManager().newSubManager()) {
          NDList xy = input.next(batch, order, start, size, random);
          NDArray images = xy.get(0);
          NDArray labels = xy.get(1);
          NDArray logits;
          NDArray loss;
          try (GradientCollector collector = trainer.newGradientCollector()) {
            logits = trainer.forward(new NDList(images)).singletonOrThrow();
            loss = trainer.getLoss().evaluate(new NDList(labels), new NDList(logits));
            collector.backward(loss);
          }
          // Detached as well as outside the collector: an in-place add of a recorded loss would
          // chain every step's graph (activations and all) to lossSum until the epoch ends.
          lossSum.addi(loss.stopGradient().mul(size));
          correct.addi(correctCount(logits, labels));
        }
        if (decay != null) {
          decay.apply(step);
        }
        step++;
        trainer.step();
        if (average != null) {
          average.update();
        }
      }
      return new Evaluation(lossSum.getFloat() / n, correct.getFloat() / n);
    }
  }

  /** How many rows' largest logit is at their label, as a scalar in native memory. */
  private static NDArray correctCount(NDArray logits, NDArray labels) {
    return logits
        .argMax(1)
        .toType(DataType.FLOAT32, false)
        .eq(labels)
        .toType(DataType.FLOAT32, false)
        .sum();
  }

  /** A uniformly random order of 0..n-1 (Fisher-Yates). */
  static int[] permutation(int n, Random random) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
