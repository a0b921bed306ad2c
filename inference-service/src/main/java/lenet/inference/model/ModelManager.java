package lenet.inference.model;

import ai.djl.Device;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.CheckpointTrust;
import lenet.contract.wire.ModelControl;
import lenet.inference.config.InferenceConfig;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jboss.logging.Logger;

/**
 * One replica's model lifecycle, assembled: {@link ModelState} decides, and this class wires the
 * adapters that feed it and carry out its decisions: {@link ModelRecords} (verified records from
 * the follower), the loader thread here (swaps in what should serve), {@link Promotions} (the
 * gate's thread), {@link Pins} (operators) and {@link ControlPublisher} (writes to the control
 * topic, where every replica applies the decisions). It also serves requests ({@link #lease}) and
 * registers the lifecycle's gauges.
 */
public final class ModelManager implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(ModelManager.class);

  private final InferenceConfig config;
  private final Topics topics;
  private final String replicaId;
  private final ServingSlot slot;
  private final ControlPublisher publisher;
  private final ModelState state;
  private final ModelRecords records;
  private final Promotions promotions;
  private final LiveDecisions live;
  private final Pins pins;
  private final CheckpointRejections rejections;
  private final AtomicReference<CompletableFuture<Void>> pendingConvergence =
      new AtomicReference<>();

  private final ExecutorService loader =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "model-loader"));
  private final Counter reloads;

  /**
   * @param config what to serve and how ({@code inference.*})
   * @param device where models run
   * @param trust the trainer keys checkpoints must be signed with
   * @param controlTrust the fleet's control key, which signs and checks control records
   */
  public ModelManager(
      InferenceConfig config,
      Device device,
      Topics topics,
      CheckpointTrust trust,
      ControlTrust controlTrust,
      MeterRegistry registry,
      KafkaConnection kafka,
      LiveCounts liveCounts) {
    this(config, device, topics, trust, controlTrust, registry, kafka, liveCounts, ModelTraces.OFF);
  }

  /** As the other, tracing gates and verdicts with {@code traces}. */
  ModelManager(
      InferenceConfig config,
      Device device,
      Topics topics,
      CheckpointTrust trust,
      ControlTrust controlTrust,
      MeterRegistry registry,
      KafkaConnection kafka,
      LiveCounts liveCounts,
      ModelTraces traces) {
    this.config = config;
    this.topics = topics;
    this.replicaId = config.replicaId().orElseGet(ModelManager::defaultReplicaId);
    this.slot = new ServingSlot(device, config.predictors());
    this.publisher = new ControlPublisher(kafka, controlTopic(), checkpointTopic(), controlTrust);
    this.state = new ModelState(config, replicaId);
    this.rejections = new CheckpointRejections(registry, state);
    this.records = new ModelRecords(state, trust, controlTrust, rejections, registry, traces);
    this.live = new LiveDecisions(config, state, slot, publisher, liveCounts, replicaId, registry);
    this.promotions =
        new Promotions(
            config,
            state,
            slot,
            publisher,
            new PromotionGate(
                slot,
                new GateSet(kafka, topics, config.gate().split(), config.gate().maxImages()),
                config),
            rejections,
            live,
            registry,
            traces);
    this.pins = new Pins(replicaId, state, publisher);
    this.reloads =
        Counter.builder("inference.model.reloads")
            .description("Models swapped in (loaded, warmed up and serving)")
            .register(registry);
    Gauge.builder("inference.model.serving.version", this, m -> orNaN(m.slot.servingVersion()))
        .description("Version of the checkpoint that serves; NaN before the first")
        .register(registry);
    Gauge.builder("inference.model.champion.version", this, m -> orNaN(m.champion()))
        .description("The newest promoted version; NaN before the first promotion")
        .register(registry);
    Gauge.builder(
            "inference.model.champion.gate.accuracy",
            state,
            s ->
                s.championPromotion()
                    .map(ModelControl::gate)
                    .map(ModelControl.Gate::accuracy)
                    .orElse(Double.NaN))
        .description(
            "The champion's accuracy on the gate's images when it was promoted; NaN before")
        .register(registry);
    Gauge.builder("inference.model.live", slot, ServingSlot::liveModels)
        .description(
            "Models holding native memory: 1 at rest, 2 while an old one drains or a gate runs")
        .register(registry);
    Gauge.builder("inference.model.known", state, ModelState::versions)
        .description("Valid checkpoints seen on the checkpoint topic")
        .register(registry);
  }

  /** {@code <hostname>/<pid>}: which replica wrote a control record. */
  static String defaultReplicaId() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      host = "localhost";
    }
    return host + "/" + ProcessHandle.current().pid();
  }

  private static double orNaN(Optional<Long> v) {
    return v.map(Long::doubleValue).orElse(Double.NaN);
  }

  /** This replica's name on the control records it writes. */
  public String replicaId() {
    return replicaId;
  }

  public String checkpointTopic() {
    return topics.name(Topic.MODEL_CHECKPOINTS);
  }

  public String controlTopic() {
    return topics.name(Topic.MODEL_CONTROL);
  }

  // ---------------------------------------------------------------- records in (follower thread)

  /**
   * One record of the checkpoint topic ({@link ModelRecords#checkpoint}). Loads nothing: call
   * {@link #converge()} after a poll.
   */
  public void offer(ConsumerRecord<byte[], byte[]> record) {
    records.checkpoint(record);
  }

  /** One record of the control topic ({@link ModelRecords#control}). */
  public void control(ConsumerRecord<byte[], byte[]> record) {
    records.control(record);
    promotions.dropShadowIfDecided();
  }

  /** The follower read both topics up to where they ended at start: decide and serve now. */
  public void caughtUp() {
    state.caughtUp();
    converge();
  }

  public boolean isCaughtUp() {
    return state.isCaughtUp();
  }

  // ---------------------------------------------------------------- what serves (loader thread)

  /**
   * Brings the serving model to the wanted one on the loader thread, then lets the gate look for a
   * new candidate. Calls made while one is already queued share it, which coalesces bursts of
   * records into one load.
   */
  public CompletableFuture<Void> converge() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    CompletableFuture<Void> queued = pendingConvergence.compareAndExchange(null, done);
    if (queued != null) {
      return queued;
    }
    try {
      loader.execute(
          () -> {
            pendingConvergence.set(null);
            try {
              convergeNow();
              done.complete(null);
            } catch (RuntimeException e) {
              LOG.errorf(e, "Model selection failed unexpectedly; the serving model is unchanged");
              done.completeExceptionally(e);
            }
            promotions.schedule(Duration.ZERO);
          });
    } catch (RejectedExecutionException e) {
      pendingConvergence.set(null);
      done.completeExceptionally(e);
    }
    return done;
  }

  /** Carries out {@link ModelState#nextAction}'s loads until what should serve serves. */
  private void convergeNow() {
    // Each failed load marks its version failed, so this ends after at most one try per version.
    while (state.nextAction(Optional.empty()) instanceof ModelState.Action.Load load) {
      try {
        swapIn(load.checkpoint());
      } catch (RuntimeException e) {
        rejections.failed(load.checkpoint().header().modelVersion(), e);
      }
    }
  }

  private void swapIn(Checkpoint checkpoint) {
    long t0 = System.nanoTime();
    Optional<Long> old = slot.swapIn(checkpoint, config.warmUpPasses(), config.warmUpBatch());
    Checkpoint.Header h = checkpoint.header();
    state.served(h.modelVersion());
    reloads.increment();
    LOG.infof(
        "Serving model v%d (run %s, epoch %d/%d, %s); loaded and warmed up in %d ms%s",
        h.modelVersion(),
        h.runId(),
        h.epoch(),
        h.epochs(),
        state.whyServes(h.modelVersion()),
        (System.nanoTime() - t0) / 1_000_000,
        old.map(v -> "; v" + v + " closes once its requests in flight finish").orElse(""));
  }

  // ---------------------------------------------------------------- requests and operators

  /**
   * A reference to the serving model for one request; close it when the forward pass is done.
   *
   * @throws NoModelException before the first model serves
   */
  public ModelLease lease() {
    return lease(false);
  }

  /**
   * A reference to the model that answers one request: the canary for its share of requests when
   * {@code canaryAllowed} and one runs here, else the serving model.
   *
   * @throws NoModelException before the first model serves
   */
  public ModelLease lease(boolean canaryAllowed) {
    if (canaryAllowed) {
      Optional<ModelLease> canary = live.canaryLease();
      if (canary.isPresent()) {
        return canary.get();
      }
    }
    return slot.lease()
        .orElseThrow(
            () ->
                new NoModelException(
                    "no model serves yet: "
                        + (isCaughtUp()
                            ? "waiting for a promoted checkpoint on '"
                                + checkpointTopic()
                                + "'; start a training run (trainer-service) or check that the trainer can reach Kafka"
                            : "still reading the model topics from Kafka")));
  }

  /** Completes when the first model serves (the Kafka scorer waits on it). */
  public CompletableFuture<Void> firstModel() {
    return slot.firstModel();
  }

  public Optional<Checkpoint.Header> serving() {
    return slot.serving();
  }

  public Optional<Long> pinnedVersion() {
    return state.pinned();
  }

  public Optional<Long> champion() {
    return state.champion();
  }

  /** Models currently holding native memory. */
  public int liveModels() {
    return slot.liveModels();
  }

  /** Loads attempted since start (a cold start that replays many checkpoints makes exactly one). */
  public long loadAttempts() {
    return slot.loadAttempts();
  }

  /**
   * Pins {@code version} on every replica (rollback or roll forward) and waits until it serves
   * here.
   *
   * @throws UnknownVersionException when no valid checkpoint has this version
   * @throws ActivationException when it cannot serve
   */
  public void activate(long version, Duration timeout) {
    pins.activate(version, timeout);
  }

  /** Drops the pin on every replica and waits until this one serves the champion again. */
  public void follow(Duration timeout) {
    pins.follow(timeout);
  }

  /**
   * After a scored batch: a sample of the traffic is also scored by the candidate in shadow, if one
   * runs. Never blocks.
   */
  public void shadow(float[][] rows, float[][] championOutput) {
    promotions.shadow(rows, championOutput);
  }

  /** A snapshot for {@code GET /api/models}, newest version first. */
  public ModelView view() {
    return state.view(slot.swaps(), promotions.shadowing(), live.canaryVersion());
  }

  @Override
  public void close() {
    promotions.close();
    loader.shutdownNow();
    try {
      loader.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    slot.close();
    publisher.close();
  }
}
