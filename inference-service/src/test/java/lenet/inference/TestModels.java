package lenet.inference;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import javax.imageio.ImageIO;
import lenet.contract.dataset.DatasetWriter;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.CheckpointSignature;
import lenet.contract.wire.CheckpointTrust;
import lenet.contract.wire.SigningKeys;
import lenet.inference.config.InferenceConfig;
import lenet.inference.config.InferenceConfigs;
import lenet.inference.model.ControlTrust;
import lenet.inference.model.ModelManager;
import lenet.kafka.SharedKafka;
import lenet.mnist.MnistFiles;
import lenet.model.LeNet5;
import lenet.model.ModelIO;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import lenet.support.kafka.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Real test material: a LeNet-5 trained briefly on real MNIST (once per JVM), checkpoints of it,
 * real test digits, and Kafka helpers against the shared in-process broker.
 */
public final class TestModels {

  static {
    System.setProperty("java.awt.headless", "true");
  }

  /** Monotonic across test classes and app restarts, as the trainer's versions are. */
  private static final AtomicLong VERSIONS =
      new AtomicLong(System.currentTimeMillis() / 1000 * 1000);

  /**
   * The key the tests sign checkpoints with, as the trainer does with its own; the service under
   * test trusts its public key ({@code %test.inference.signing.trusted-keys}).
   */
  public static final KeyPair SIGNING =
      SigningKeys.loadOrCreate(Path.of("src/test/resources/checkpoint-signing/test.key"));

  /**
   * How replicas built in tests trust checkpoints: the test key, and no limit on versions (the
   * tests' versions are timestamps, far above the topics' offsets).
   */
  public static final CheckpointTrust TRUST =
      new CheckpointTrust(List.of(SIGNING.getPublic()), List.of(), Long.MAX_VALUE);

  /** The control key pair every replica built in this JVM shares, as a fleet's replicas do. */
  public static final KeyPair FLEET_CONTROL = SigningKeys.generate();

  /**
   * A replica built in code as the service builds its own, on the shared broker: configured by
   * {@code config} (see {@link InferenceConfigs}), trusting checkpoints as {@code trust} says and
   * control records signed with {@link #FLEET_CONTROL}.
   */
  public static ModelManager manager(InferenceConfig config, Topics topics, CheckpointTrust trust) {
    return manager(config, topics, trust, lenet.inference.model.LiveCounts.NONE);
  }

  /**
   * A replica as {@link #manager(InferenceConfig, Topics, CheckpointTrust)}, reading {@code live}.
   */
  public static ModelManager manager(
      InferenceConfig config,
      Topics topics,
      CheckpointTrust trust,
      lenet.inference.model.LiveCounts live) {
    return new ModelManager(
        config,
        ai.djl.Device.cpu(),
        topics,
        trust,
        new ControlTrust(FLEET_CONTROL, List.of()),
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
        KafkaConnection.to(SharedKafka.bootstrapServers()),
        live);
  }

  /** Training images of the gate set's copy: the last 20% (400) are its dev split. */
  public static final int GATE_TRAIN_IMAGES = 2000;

  private static byte[] parameters;
  private static boolean gateSet;
  private static double accuracy;
  private static MnistSet testSet;

  private TestModels() {}

  public static long nextVersion() {
    return VERSIONS.incrementAndGet();
  }

  public static synchronized MnistSet mnistTest() {
    if (testSet == null) {
      testSet = files().test();
    }
    return testSet;
  }

  /**
   * Publishes a small real MNIST copy (2,000 training images: dev = the last 400; 200 test images)
   * to the shared broker, once per JVM, as ingest-service would.
   */
  public static synchronized void ensureGateSet() {
    if (gateSet) {
      return;
    }
    String bootstrap = SharedKafka.bootstrapServers();
    Topics topics = Topics.defaults();
    topics.ensureAll(KafkaConnection.to(bootstrap));
    MnistFiles files = files();
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.writer(
            KafkaConnection.to(bootstrap), Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
      new DatasetWriter(producer, topics)
          .publish(
              "test-gate-set",
              files.train().head(GATE_TRAIN_IMAGES),
              files.test().head(200),
              0.2,
              100,
              (split, done, total) -> {});
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    gateSet = true;
  }

  private static MnistFiles files() {
    return new MnistFiles(Path.of(System.getProperty("mnist.dir", "../data/mnist")), false)
        .ensurePresent();
  }

  /**
   * Parameters of LeNet-5 after one pass over the first 12,000 real training images (batch 64,
   * Adam): ~96% on the test set, and enough steps for BatchNorm's running statistics (momentum
   * 0.99) to settle.
   */
  public static synchronized byte[] trainedParameters() {
    if (parameters == null) {
      MnistSet train = files().train().head(12_000);
      Engine.getEngine("PyTorch").setRandomSeed(42);
      try (Model model = Model.newInstance(LeNet5.MODEL_NAME, Device.cpu(), "PyTorch")) {
        model.setBlock(LeNet5.newBlock());
        DefaultTrainingConfig config =
            new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(Optimizer.adam().build());
        int batch = 64;
        try (Trainer trainer = model.newTrainer(config)) {
          trainer.initialize(new Shape(batch, 1, 28, 28));
          for (int start = 0; start + batch <= train.count(); start += batch) {
            try (NDManager m = trainer.getManager().newSubManager()) {
              NDArray x = m.create(inputs(train, start, batch), new Shape(batch, 1, 28, 28));
              float[] labels = new float[batch];
              for (int i = 0; i < batch; i++) {
                labels[i] = train.labels()[start + i];
              }
              NDArray y = m.create(labels);
              try (GradientCollector gc = trainer.newGradientCollector()) {
                NDList out = trainer.forward(new NDList(x));
                gc.backward(trainer.getLoss().evaluate(new NDList(y), out));
              }
              trainer.step();
            }
          }
        }
        parameters = ModelIO.parameters(model.getBlock());
      }
      accuracy = accuracy(parameters, 1000);
      if (accuracy < 0.9) {
        throw new AssertionError(
            "the test model reached only " + accuracy + " on 1000 MNIST test images");
      }
    }
    return parameters;
  }

  /**
   * Accuracy of {@code params} on the first {@code n} test images, evaluated outside the service.
   */
  static double accuracy(byte[] params, int n) {
    MnistSet test = mnistTest();
    try (Model model = ModelIO.load(checkpoint(0, 0, params), Device.cpu());
        NDManager m = model.getNDManager().newSubManager()) {
      NDArray x = m.create(inputs(test, 0, n), new Shape(n, 1, 28, 28));
      NDArray logits =
          model
              .getBlock()
              .forward(new ParameterStore(m, false), new NDList(x), false)
              .singletonOrThrow();
      long[] predicted = logits.argMax(1).toLongArray();
      int right = 0;
      for (int i = 0; i < n; i++) {
        right += predicted[i] == test.labels()[i] ? 1 : 0;
      }
      return right / (double) n;
    }
  }

  public static float[] inputs(MnistSet set, int start, int count) {
    float[] x = new float[count * MnistSet.IMAGE_BYTES];
    for (int i = 0; i < count; i++) {
      for (int p = 0; p < MnistSet.IMAGE_BYTES; p++) {
        x[i * MnistSet.IMAGE_BYTES + p] = set.pixel(start + i, p) / 255f;
      }
    }
    return x;
  }

  /** A freshly initialized LeNet-5 (seed 1): loads and gives probabilities, ~10% accuracy. */
  public static byte[] untrainedParameters() {
    Engine.getEngine("PyTorch").setRandomSeed(1);
    try (Model model = Model.newInstance(LeNet5.MODEL_NAME, Device.cpu(), "PyTorch")) {
      model.setBlock(LeNet5.newBlock());
      model
          .getBlock()
          .initialize(
              model.getNDManager(), ai.djl.ndarray.types.DataType.FLOAT32, new Shape(1, 1, 28, 28));
      return ModelIO.parameters(model.getBlock());
    }
  }

  /** The trained network with its last layer's weights made NaN: only a forward pass can tell. */
  public static byte[] nanParameters() {
    try (Model model = ModelIO.load(checkpoint(0, 0), Device.cpu())) {
      List<ai.djl.util.Pair<String, ai.djl.nn.Parameter>> params =
          model.getBlock().getParameters().stream().toList();
      params.get(params.size() - 1).getValue().getArray().muli(Float.NaN);
      return ModelIO.parameters(model.getBlock());
    }
  }

  public static double trainedAccuracy() {
    trainedParameters();
    return accuracy;
  }

  /** A checkpoint of the trained network under {@code version}. */
  public static Checkpoint checkpoint(long version, double devAccuracy) {
    return checkpoint(version, devAccuracy, trainedParameters());
  }

  public static Checkpoint checkpoint(long version, double devAccuracy, byte[] params) {
    return checkpoint(version, devAccuracy, params, "test-run-" + version, 1, 1);
  }

  /** Epoch {@code epoch} of {@code epochs} of run {@code runId}: the last epoch is a candidate. */
  public static Checkpoint checkpoint(
      long version, double devAccuracy, byte[] params, String runId, int epoch, int epochs) {
    return new Checkpoint(
        Checkpoint.Header.lenet5(version)
            .runId(runId)
            .epoch(epoch, epochs)
            .parametersOf(params)
            .training(0.2, 0.94)
            .dev(0.2, devAccuracy)
            .build(),
        params);
  }

  /** Pixels 0..255 of test image {@code i}. */
  public static int[] pixels(int i) {
    MnistSet test = mnistTest();
    int[] p = new int[MnistSet.IMAGE_BYTES];
    for (int k = 0; k < p.length; k++) {
      p[k] = test.pixel(i, k);
    }
    return p;
  }

  public static int label(int i) {
    return mnistTest().labels()[i];
  }

  /**
   * Test image {@code i} as people photograph digits: {@code size x size}, dark digit on white,
   * enlarged {@code scale} times (bilinear) and placed off centre at ({@code x}, {@code y}).
   */
  public static byte[] render(int i, int size, int scale, int x, int y, String format) {
    BufferedImage digit = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    for (int p = 0; p < MnistSet.IMAGE_BYTES; p++) {
      int v = 255 - mnistTest().pixel(i, p);
      digit.getRaster().setSample(p % 28, p / 28, 0, v);
    }
    BufferedImage canvas = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = canvas.createGraphics();
    g.setColor(java.awt.Color.WHITE);
    g.fillRect(0, 0, size, size);
    g.setRenderingHint(
        RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(digit, x, y, 28 * scale, 28 * scale, null);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(canvas, format, out)) {
        throw new IllegalStateException("no ImageIO writer for " + format);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** JSON image event with the pixels of test image {@code i}. */
  public static String pixelsJson(String id, int i) {
    StringBuilder s = new StringBuilder("{");
    if (id != null) {
      s.append("\"id\":\"").append(id).append("\",");
    }
    s.append("\"pixels\":[");
    int[] p = pixels(i);
    for (int k = 0; k < p.length; k++) {
      s.append(k == 0 ? "" : ",").append(p[k]);
    }
    return s.append("]}").toString();
  }

  public static KafkaProducer<byte[], byte[]> producer() {
    return producer(Map.of());
  }

  /** A producer of raw bytes with {@code settings} over the tests' defaults. */
  public static KafkaProducer<byte[], byte[]> producer(Map<String, Object> settings) {
    Map<String, Object> config =
        new HashMap<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                SharedKafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                Topic.LARGE_RECORD + 64 * 1024,
                ProducerConfig.LINGER_MS_CONFIG,
                1));
    config.putAll(settings);
    return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /**
   * Publishes raw bytes, signed with the test key, as a checkpoint record under the bare model name
   * (as builds before per-version keys did) and waits for the broker's acknowledgement.
   */
  public static void publishCheckpoint(String topic, byte[] value) {
    publish(topic, LeNet5.MODEL_NAME, value, CheckpointSignature.sign(value, SIGNING));
  }

  /** Publishes a checkpoint under its per-version key, signed with the test key, as the trainer. */
  public static void publishCheckpoint(String topic, Checkpoint checkpoint) {
    publishCheckpoint(topic, checkpoint, SIGNING);
  }

  /**
   * Publishes a checkpoint under its per-version key, signed with {@code keys} (null: unsigned).
   */
  public static void publishCheckpoint(String topic, Checkpoint checkpoint, KeyPair keys) {
    byte[] value = checkpoint.encode();
    publish(
        topic,
        Checkpoint.key(LeNet5.MODEL_NAME, checkpoint.header().modelVersion()),
        value,
        keys == null ? new RecordHeaders() : CheckpointSignature.sign(value, keys));
  }

  public static void publishCheckpoint(Checkpoint checkpoint) {
    publishCheckpoint(Topic.MODEL_CHECKPOINTS.defaultName(), checkpoint);
  }

  /** Writes one record and waits for the broker's acknowledgement. */
  public static void publish(String topic, String key, byte[] value) {
    publish(topic, key, value, new RecordHeaders());
  }

  /** Writes one record with {@code headers} and waits for the broker's acknowledgement. */
  public static void publish(String topic, String key, byte[] value, Headers headers) {
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      producer
          .send(
              new ProducerRecord<>(
                  topic, null, key.getBytes(StandardCharsets.UTF_8), value, headers))
          .get(30, TimeUnit.SECONDS);
    } catch (InterruptedException | ExecutionException | TimeoutException e) {
      throw new IllegalStateException("could not publish to " + topic, e);
    }
  }

  /** Publishes a new version and waits until {@code models} serves it. */
  public static long publishAndAwait(ModelManager models) {
    long version = nextVersion();
    publishCheckpoint(checkpoint(version, 0.95));
    awaitServing(models, version);
    return version;
  }

  public static void awaitServing(ModelManager models, long version) {
    org.awaitility.Awaitility.await("model v" + version + " serves")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> models.serving().map(h -> h.modelVersion() == version).orElse(false));
  }

  /**
   * Makes sure some model serves (tests run in any order after the first) and returns its version.
   */
  public static long ensureServing(ModelManager models) {
    models.follow(Duration.ofSeconds(60));
    return models
        .serving()
        .map(Checkpoint.Header::modelVersion)
        .orElseGet(() -> publishAndAwait(models));
  }

  /**
   * Reads {@code topic} from the beginning until {@code done} holds for the records whose key
   * matches, or the timeout passes; returns those records grouped by key (string).
   */
  public static Map<String, List<ConsumerRecord<byte[], byte[]>>> readUntil(
      String topic,
      Predicate<String> keyFilter,
      Predicate<Map<String, List<ConsumerRecord<byte[], byte[]>>>> done,
      Duration timeout) {
    Map<String, List<ConsumerRecord<byte[], byte[]>>> byKey = new HashMap<>();
    readCommitted(
        topic,
        r -> {
          String key = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
          if (keyFilter.test(key)) {
            byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
          }
        },
        () -> done.test(byKey),
        timeout);
    return byKey;
  }

  /**
   * Reads {@code topic} from the beginning as a {@code read_committed} reader (what a reader of
   * scoring's outputs should see: committed transactions only), handing each record to {@code
   * each}, until {@code done} holds (and one more poll, where a duplicate written right after would
   * show) or the timeout passes.
   */
  public static void readCommitted(
      String topic,
      Consumer<ConsumerRecord<byte[], byte[]>> each,
      BooleanSupplier done,
      Duration timeout) {
    TopicReader.of(KafkaConnection.to(SharedKafka.bootstrapServers()))
        .byteKeys()
        .within(timeout)
        .until(topic, each, done);
  }
}
