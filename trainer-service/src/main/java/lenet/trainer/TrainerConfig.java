package lenet.trainer;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Defaults of a run (a command may override each) and the engine settings; every key is {@code
 * trainer.*}.
 */
@ConfigMapping(prefix = "trainer")
public interface TrainerConfig {

  /** Epochs of a run when the command names none. */
  @WithDefault("20")
  int epochs();

  /** Images per gradient step. */
  @WithDefault("128")
  int batchSize();

  /**
   * The optimizer's learning rate after the warm-up ({@code schedule} then decays it). 0.01 with
   * adamw, weight decay 0.1, a 1-epoch warm-up and the BatchNorm calibration measured best on dev
   * (BENCHMARKS.md, "Training recipe"); the tutorial's rate is 0.001 with adam.
   */
  @WithDefault("0.01")
  double learningRate();

  /**
   * adam, adamw (Adam with decoupled weight decay, {@code weight-decay}), sgd (momentum 0.9),
   * adagrad or rmsprop.
   */
  @WithDefault("adamw")
  String optimizer();

  /**
   * Seed for initialization and per-epoch shuffling: same seed, same data, CPU -> identical
   * metrics.
   */
  @WithDefault("42")
  long seed();

  /**
   * Learning-rate schedule over a run: {@code constant}, or {@code cosine} (decays to 1% of the
   * rate by the last epoch, which is what carries 20 epochs past the tutorial's 99.26%).
   */
  @WithDefault("cosine")
  String schedule();

  /**
   * Training images are distorted at random, fresh per image and epoch (see Augmentation): shifted
   * by up to this many pixels...
   */
  @WithDefault("2")
  int augmentShift();

  /**
   * ...rotated by up to this many degrees... (Measured: 10 degrees with a 10% zoom did not beat
   * shifts alone in 20 epochs, so both are off by default.)
   */
  @WithDefault("0")
  double augmentRotation();

  /**
   * ...and zoomed by up to this fraction (0.1 = ±10%). All three at 0 train on the plain images, as
   * the tutorial.
   */
  @WithDefault("0")
  double augmentZoom();

  /**
   * Epochs over which the learning rate rises linearly from 0 to {@code learning-rate} at the start
   * of a run; the schedule then runs over the remaining steps. 0: none.
   */
  @WithDefault("1")
  double warmUpEpochs();

  /**
   * Label smoothing of the training loss: the target puts this much probability evenly over the ten
   * digits, the rest on the label (0.1: 0.91 on the label). 0: the tutorial's plain cross-entropy.
   * Dev, test and feedback losses are always the plain cross-entropy.
   */
  @WithDefault("0")
  double labelSmoothing();

  /**
   * Decay per step of an exponential moving average of the weights (BatchNorm statistics included).
   * When above 0 the average is what a run evaluates, reports as {@code devAccuracy} and test
   * accuracy, and checkpoints; the raw weights' dev accuracy is reported beside it ({@code
   * rawDevAccuracy}). A resumed run starts from the checkpointed average. 0: off.
   */
  @WithDefault("0")
  double emaDecay();

  /**
   * adamw's decoupled weight decay: each step shrinks the weights by learning rate x this. The
   * other optimizers train without weight decay. 0: none.
   */
  @WithDefault("0.1")
  double weightDecay();

  /**
   * After each epoch, every BatchNorm's running mean and variance (what dev, test and the served
   * model normalize with) are recomputed exactly over this many training images, augmented as in
   * training, under the weights as they stand. Training's own moving average (momentum 0.99) trails
   * the weights by about a hundred steps and starts from mean 0 and variance 1, so short runs and
   * high learning rates evaluate a network that is not the one trained. Costs one forward pass over
   * the images. 0: keep the moving average, as the tutorial.
   */
  @WithDefault("2048")
  int batchNormImages();

  /**
   * Native memory a run's batch may take while training, in bytes (e.g. {@code 2147483648}); a
   * command whose {@code batchSize} needs more is refused (FAILED, or 400 over HTTP) when it
   * arrives. Absent: half the memory the process may use (a container's limit, else the machine's).
   * See {@code RunLimits} for the cost per image.
   */
  Optional<Long> maxBatchMemory();

  /** {@code auto} (a GPU when DJL sees one, else the CPU), {@code cpu} or {@code gpu}. */
  @WithDefault("auto")
  String device();

  /**
   * Training steps (4 synthetic images each, a throwaway model) run once at start, before any run,
   * so the JIT has compiled DJL's per-step Java code when the first real epoch begins: without them
   * a fresh process's first epoch took 1.3-1.5x the later ones. ~2 s on 2 cores; 0 skips it.
   */
  @WithDefault("200")
  int jitWarmUpSteps();

  /**
   * Keep the native memory libtorch frees for the next training step instead of returning it to the
   * kernel (glibc's mmap and trim thresholds and its top pad raised at start, see {@code
   * NativeMemory}). With glibc's defaults every step maps, faults in and unmaps its activations
   * afresh: an epoch took 13-18 s instead of 6.6-7.6 s on 2 cores, most of the difference in the
   * kernel; the top pad keeps the training thread's own arena mapped as well. The process's
   * resident memory stays at its high-water mark. No effect off Linux or without glibc.
   */
  @WithDefault("true")
  boolean keepFreedNativeMemory();

  /** PyTorch intra-op threads; all cores when absent. */
  Optional<Integer> threads();

  /** How long a run waits for ingest-service to publish a dataset before it fails. */
  @WithDefault("10m")
  Duration datasetWait();

  /**
   * Of the labelled feedback images a run reads (a command's {@code feedback}), the fraction held
   * out of training and measured each epoch beside the dev split ({@code feedbackAccuracy} in its
   * events). Which images: those whose id's CRC-32 falls in this fraction, so the same ids are held
   * out in every run.
   */
  @WithName("feedback.held-out")
  @WithDefault("0.2")
  double feedbackHeldOut();

  /**
   * How long a run may take to read the labels, images and predictions topics to their ends for its
   * feedback before it fails.
   */
  @WithName("feedback.read-timeout")
  @WithDefault("10m")
  Duration feedbackReadTimeout();

  /**
   * Largest PNG or JPEG feedback image in pixels (width x height), checked from its header before
   * decoding, as inference does ({@code inference.max-image-pixels}); a larger one counts as
   * undecodable.
   */
  @WithName("feedback.max-image-pixels")
  @WithDefault("2000000")
  long feedbackMaxImagePixels();

  /**
   * Trained epochs a run keeps in memory while Kafka does not take them (a broker outage): the run
   * trains on and publishes them in order when the broker is back; with this many waiting, training
   * pauses until the broker takes one. Each holds its parameters, about 250 KB.
   */
  @WithDefault("50")
  int outboxEpochs();

  /**
   * How often a run may start without finishing (the trainer killed or stopped mid-run each time)
   * before its command, delivered again, ends FAILED instead of starting once more.
   */
  @WithDefault("3")
  int maxAttempts();

  /**
   * The Ed25519 private key every checkpoint is signed with (PEM, PKCS#8), its public key beside it
   * as {@code <file>.pub}: that is what inference trusts ({@code inference.signing.trusted-keys}).
   * Created at first start when neither exists (readable by the owner only); keep it like any other
   * secret. {@code ./pipeline} keeps it in {@code run/checkpoint-signing.key}.
   */
  @WithDefault("signing/checkpoint-signing.key")
  Path signingKeyFile();

  /**
   * Public keys of earlier trainer keys (base64 X.509 or PEM, comma-separated) whose checkpoints a
   * run may still resume from, during a key rotation. A run cut short resumes only from a
   * checkpoint signed by {@code signing-key-file}'s key or one of these; any other starts from
   * scratch (its STARTED event says why).
   */
  Optional<java.util.List<String>> trustedKeys();

  /**
   * Finished runs (COMPLETED, FAILED or CANCELLED) that {@code /api/runs} and the page keep, the
   * ones that ended last; an older one is forgotten here (its events stay on {@code
   * training.events}). Queued and running runs are always kept. Every bad command is a FAILED run
   * of its own, so this bounds what a flood of them costs: a few hundred bytes each, about 100
   * bytes per epoch of history for a real run.
   */
  @WithName("runs.keep")
  @WithDefault("1000")
  int runsKeep();

  /**
   * Live event streams ({@code GET /api/runs/events}) served at once; one more is answered 503 with
   * {@code Retry-After}.
   */
  @WithName("events.max-subscribers")
  @WithDefault("32")
  int eventsMaxSubscribers();

  /**
   * Events kept for one stream whose client does not read them; past this the stream is ended (a
   * browser's EventSource connects again by itself), so a client that never reads costs a bounded
   * amount of memory.
   */
  @WithName("events.buffer")
  @WithDefault("256")
  int eventsBuffer();
}
