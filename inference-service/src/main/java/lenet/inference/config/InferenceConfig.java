package lenet.inference.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import lenet.contract.wire.DatasetBatch.Split;

/** How the service picks, runs and feeds its model; every key is {@code inference.*}. */
@ConfigMapping(prefix = "inference")
public interface InferenceConfig {

  /**
   * Which checkpoint serves: {@code gated} (the champion: a completed run's candidate promoted by
   * the gate, fleet-wide through the control topic), or, without gate or promotion, {@code latest}
   * (every valid new checkpoint, each epoch as it comes) or {@code best} (only when its claimed dev
   * accuracy >= the serving one's).
   */
  @WithDefault("gated")
  Policy policy();

  /** The promotion gate (policy {@code gated}). */
  Gate gate();

  /** Which checkpoints stay on the checkpoint topic. */
  Retention retention();

  /** Shadow scoring of a candidate that passed its gate, on live traffic, before promotion. */
  Shadow shadow();

  /** Scoring of {@code digits.images} from Kafka. */
  KafkaScoring kafka();

  /** Labels from people: {@code POST /api/feedback}. */
  Feedback feedback();

  /** The outcomes join: labels with their predictions ({@code digits.outcomes}). */
  Outcomes outcomes();

  /** Canary on live traffic before a promotion, and automatic rollback after one. */
  Canary canary();

  /** The drift signal: a champion's live accuracy against its gate's. */
  Drift drift();

  /** Names this replica in the control history ({@code by}); default {@code <hostname>/<pid>}. */
  Optional<String> replicaId();

  /**
   * Where the model runs: {@code auto} (a GPU when PyTorch sees one), {@code cpu} or {@code gpu}.
   */
  @WithDefault("auto")
  DeviceChoice device();

  /**
   * How many forward passes run at once on a loaded model (one per core is a good start); also the
   * number of HTTP batching threads.
   */
  @WithDefault("2")
  int predictors();

  /**
   * PyTorch intra-op threads per forward pass (ai.djl.pytorch.num_threads); a -D system property
   * wins.
   */
  @WithDefault("1")
  int torchThreads();

  /**
   * Largest image event (Kafka value) or JSON/image HTTP body in bytes; bigger ones are refused as
   * TOO_LARGE.
   */
  @WithDefault("2097152")
  int maxImageBytes();

  /**
   * Largest decoded image in pixels (width x height), checked from the image's header before it is
   * decoded, so a tiny PNG cannot expand into gigabytes: 2,000,000 keeps one decoded image under ~8
   * MB (4 bytes a pixel at most); 4096x4096 is refused (413 over HTTP, a TOO_LARGE dead letter).
   */
  @WithDefault("2000000")
  long maxImagePixels();

  /**
   * Single-image predictions over HTTP ({@code /api/predict}) in flight at once, waiting for the
   * model included; one more is answered 503 with {@code Retry-After} at once instead of waiting in
   * a queue that grows. Each holds a few KB; decoded images are bounded apart from it (one per core
   * is decoded at a time). Twice {@link #httpMaxBatch}, so bursty clients fill whole batches
   * instead of being refused.
   */
  @WithName("http.max-concurrent")
  @WithDefault("64")
  int httpMaxConcurrent();

  /**
   * Open Inference Protocol requests in flight at once; one more is answered 503 at once. Each
   * holds its body (up to 2 MB) and its rows, and one the fast reader declines (to name its
   * problem) is read into a JSON tree of up to ~16 MB, so this stays small.
   */
  @WithName("http.max-concurrent-batches")
  @WithDefault("16")
  int httpMaxConcurrentBatches();

  /**
   * Dynamic batching of single-image HTTP predictions ({@code /api/predict}): requests that arrive
   * within this window of the first waiting one share one forward pass, each still getting its own
   * answer. 0 turns it off (every request is its own forward pass).
   */
  @WithName("http.batch-window")
  @WithDefault("1ms")
  Duration httpBatchWindow();

  /** The most single-image HTTP predictions one forward pass takes (dynamic batching). */
  @WithName("http.max-batch")
  @WithDefault("32")
  int httpMaxBatch();

  /** Most images in one Open Inference Protocol request. */
  @WithDefault("256")
  int maxBatch();

  /**
   * Forward passes per slot (inference.predictors) a new model runs before it serves, so no request
   * pays PyTorch's warm-up.
   */
  @WithDefault("3")
  int warmUpPasses();

  /** Images per warm-up pass (a typical Kafka micro-batch). */
  @WithDefault("64")
  int warmUpBatch();

  /**
   * Checkpoints whose parameters stay in memory for rollback (~253 KB each); older ones are listed
   * only.
   */
  @WithDefault("64")
  int keepVersions();

  /** How long {@code POST /api/models/{v}/activate} waits for the model to load and warm up. */
  @WithDefault("60s")
  Duration activateTimeout();

  /** Promotion policy of new checkpoints. */
  enum Policy {
    GATED,
    LATEST,
    BEST
  }

  /** Which checkpoint of a completed run is its candidate. */
  enum CandidateChoice {
    /** The run's last epoch. */
    FINAL,
    /** The run's epoch with the highest dev accuracy (as the trainer measured it). */
    BEST_EPOCH
  }

  /** Which checkpoints may serve at all: {@code inference.signing.*}. */
  Signing signing();

  /** {@code inference.signing.*} */
  interface Signing {
    /**
     * The trainers' public keys (the base64 of each key's X.509 encoding, or its PEM text),
     * comma-separated: several during a key rotation. A checkpoint that is unsigned, or not signed
     * by one of these, is rejected ({@code BAD_SIGNATURE}). None: every checkpoint is rejected.
     */
    Optional<List<String>> trustedKeys();

    /**
     * Files holding trusted public keys (PEM, e.g. the trainer's {@code checkpoint-signing.key.pub}
     * on a shared volume), comma-separated. Read at start and again whenever a checkpoint names a
     * key not trusted yet, so a trainer that creates or rotates its key is trusted without a
     * restart here. A file that does not exist yet is skipped.
     */
    Optional<List<Path>> trustedKeyFiles();

    /**
     * A checkpoint whose version is more than this above both the newest known version and its own
     * offset on the checkpoint topic is rejected ({@code VERSION_TOO_FAR}): the trainer's versions
     * never pass their record's offset, so only a forged or broken one does (and would otherwise
     * stay "latest" for good).
     */
    @WithDefault("1000")
    long maxVersionJump();

    /**
     * The fleet's Ed25519 control key pair (PEM, PKCS#8; public key beside it as {@code
     * <file>.pub}): every replica signs its control records (gate verdicts, pins, follows,
     * retention's deletions) with it, and applies only records signed by it (or by {@code
     * trusted-control-keys}), so that a Kafka writer without it cannot promote, pin or reject a
     * model. Every replica of a fleet must hold the same pair: {@code ./pipeline} creates it as
     * {@code run/control-signing.key}, compose and Kubernetes mount it from a secret. Created at
     * start when neither file exists (readable by the owner only): right for a single replica.
     */
    @WithDefault("signing/control-signing.key")
    Path controlKeyFile();

    /**
     * Other trusted control public keys (base64 X.509 or PEM, comma-separated), for a rotation:
     * records signed by the old key (the champion's PROMOTE among them) keep counting while the
     * fleet moves to the new one.
     */
    Optional<List<String>> trustedControlKeys();
  }

  /** {@code inference.gate.*} */
  interface Gate {
    /** {@code final} (the run's last epoch) or {@code best-epoch} (its best by dev accuracy). */
    @WithDefault("final")
    CandidateChoice candidate();

    /**
     * How far (a fraction: 0.001 = 0.1 point) the candidate's measured accuracy may fall below the
     * champion's on the same images and still be promoted.
     */
    @WithDefault("0.001")
    double tolerance();

    /**
     * The dataset split the gate scores on, read from Kafka: {@code dev} (held out from training);
     * {@code test} stays untouched for reporting.
     */
    @WithDefault("dev")
    Split split();

    /** Score only the first N images of the split (0 = all: 12,000 for MNIST's dev split). */
    @WithDefault("0")
    int maxImages();

    /** How often a candidate waiting for a gate set (no dataset on Kafka yet) is tried again. */
    @WithDefault("10s")
    Duration retry();
  }

  /** {@code inference.retention.*} */
  interface Retention {
    /**
     * Checkpoint versions kept on the topic, newest first; older ones are deleted (tombstoned)
     * unless they are the champion, pinned, or among the last {@code keep-promoted} champions. 0:
     * none are deleted (where inference may not write the checkpoint topic, as in deploy/).
     */
    @WithDefault("50")
    int keepVersions();

    /** Earlier champions kept beyond {@code keep-versions}, for rollback. */
    @WithDefault("10")
    int keepPromoted();
  }

  /** {@code inference.shadow.*} */
  interface Shadow {
    /**
     * Fraction of live requests (Kafka batches and HTTP) that a gated candidate also scores,
     * without answering, before it is promoted; 0 = no shadow phase (promote on the gate alone).
     */
    @WithDefault("0")
    double fraction();

    /** Images the candidate must shadow before its promotion is decided. */
    @WithDefault("1000")
    int minImages();

    /**
     * Least share of shadowed images on which the candidate must predict the champion's digit to be
     * promoted (0 = any).
     */
    @WithDefault("0")
    double minAgreement();
  }

  /** How each image event's output is delivered. */
  enum Delivery {
    /**
     * Each batch's predictions, dead letters and consumed offsets in one Kafka transaction: a
     * {@code read_committed} reader sees exactly one output per event, through crashes, outages and
     * rebalances.
     */
    EXACTLY_ONCE,
    /**
     * Outputs acknowledged, then offsets committed: none lost, but a crash between the two scores
     * the batch again (the outputs carry the same ids, so duplicates can be told apart).
     */
    AT_LEAST_ONCE
  }

  /** {@code inference.kafka.*} */
  interface KafkaScoring {
    /** {@code exactly-once} (transactions) or {@code at-least-once}. */
    @WithDefault("exactly-once")
    Delivery delivery();

    /**
     * Scoring workers, each its own group member with its own producer (parallel transactions); at
     * most the image topic's partitions do work.
     */
    @WithDefault("2")
    int workers();

    /** The consumer group every replica shares. */
    @WithDefault("inference-service")
    String groupId();

    /** Most image events in one batch: one forward pass, one transaction. */
    @WithDefault("256")
    int maxPollRecords();

    /**
     * Prefix of the workers' {@code transactional.id} ({@code <prefix>-w<n>}); default {@code
     * inference-<host>-<http port>}, stable across restarts of one replica, so a restarted replica
     * aborts its predecessor's open transaction at once.
     */
    Optional<String> transactionalIdPrefix();

    /**
     * A transaction left open by a crashed worker (one whose id is not reused) is aborted by the
     * broker after this, so {@code read_committed} readers of the outputs wait at most this long.
     */
    @WithDefault("15s")
    Duration transactionTimeout();

    /**
     * How long a send or commit waits for an absent broker before the batch is aborted and read
     * again (after a backoff that grows to {@code max-backoff}), for as long as the outage lasts.
     */
    @WithDefault("10s")
    Duration sendTimeout();

    /** The longest wait between two tries of a batch the broker did not take (1 s, doubling). */
    @WithDefault("30s")
    Duration maxBackoff();
  }

  /** Device selection. */
  enum DeviceChoice {
    AUTO,
    CPU,
    GPU
  }

  /**
   * {@code POST /api/feedback}: each client (its address) may send {@link #rate} labels a second on
   * average and {@link #burst} at once; one more is answered 429 with {@code Retry-After}.
   */
  interface Feedback {

    /** Labels a second each client may send, on average. */
    @WithDefault("5")
    double rate();

    /** Labels a client may send at once before {@link #rate} applies. */
    @WithDefault("20")
    int burst();

    /**
     * Clients whose allowance is remembered; past it the one idle longest is forgotten (and starts
     * again with a full burst), so many clients cost a bounded amount of memory.
     */
    @WithDefault("10000")
    int clients();

    /**
     * Whether predictions answered over HTTP ({@code POST /api/predict}) are also written to {@code
     * digits.predictions} with their pixels ({@code lenet.inference.feedback.HttpPredictionLog}),
     * so labels for their ids join and can be trained on. {@code false} keeps HTTP images off
     * Kafka; labels for them are then counted as unmatched. The Open Inference Protocol's batches
     * carry no ids and are never written.
     */
    @WithDefault("true")
    boolean publishHttp();
  }

  /** The outcomes join ({@code lenet.inference.outcomes.OutcomesTopology}). */
  interface Outcomes {

    /**
     * How far apart a label and its prediction may be (either first) to be joined; a label later
     * than this is counted as unmatched. The join keeps this much of both topics in its stores.
     */
    @WithDefault("P1D")
    java.time.Duration window();
  }

  /**
   * {@code inference.canary.*}: a candidate that passed its gate answers {@link #fraction} of live
   * traffic (Kafka batches and HTTP requests, chosen at random per batch; each answer carries its
   * model version) until its live accuracy decides: promoted fleet-wide when it is not worse than
   * the champion's over the same period by more than {@link #tolerance} at {@link #confidence}
   * (one-sided), dropped when it is worse, on at least {@link #minLabelled} labelled outcomes each.
   * A champion promoted this way is rolled back, fleet-wide, when its live accuracy since then
   * falls below the replaced champion's by more than the tolerance by the same test. Needs labels
   * ({@code digits.labels}); without them a canary waits.
   */
  interface Canary {

    /** Share of live traffic a canary answers; 0 = no canary (promote on the gate alone). */
    @WithDefault("0")
    double fraction();

    /** Labelled outcomes each side needs (canary and champion; champion since promotion). */
    @WithDefault("200")
    long minLabelled();

    /** The one-sided confidence of the tests, in (0.5, 1). */
    @WithDefault("0.95")
    double confidence();

    /**
     * How much lower (a fraction: 0.01 = 1 point) a live accuracy may be and count as not worse.
     */
    @WithDefault("0.01")
    double tolerance();

    /** How often every replica looks at the live figures (canary, rollback, drift). */
    @WithDefault("5s")
    Duration checkEvery();
  }

  /**
   * {@code inference.drift.*}: the champion drifts when its live accuracy (since its promotion) is
   * below what its gate measured on the dev split by more than {@link #tolerance}, at the canary's
   * confidence, or its mean confidence below the gate's by more than {@link #confidenceTolerance},
   * on at least {@link #minLabelled} labelled outcomes: a DRIFT record on {@code model.control}
   * (once per version) and {@code inference_drift{version}} = 1.
   */
  interface Drift {

    /** How far (a fraction: 0.05 = 5 points) live accuracy may fall below the gate's. */
    @WithDefault("0.05")
    double tolerance();

    /** Labelled outcomes of the champion before drift is judged. */
    @WithDefault("200")
    long minLabelled();

    /**
     * How far (a fraction) the champion's mean confidence on its labelled outcomes may fall below
     * its mean confidence on the gate's images before that too counts as drift: digits unlike the
     * ones it learned make a model less sure, often before labels say it is wrong.
     */
    @WithDefault("0.05")
    double confidenceTolerance();
  }
}
