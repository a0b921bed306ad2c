package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topic;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.TrainingEvent;
import lenet.launcher.deploy.Deployment;
import lenet.launcher.deploy.LocalDeployment;
import lenet.launcher.deploy.Pod;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import lenet.support.kafka.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A deployment's files booted as processes ({@link LocalDeployment}) and what the booted-deployment
 * tests do with it: start a run through the trainer's HTTP API with the files' API token, read the
 * topics as the cluster's admin, ask each inference replica what it serves, send image events and
 * count their predictions.
 */
final class BootedPipeline implements AutoCloseable {

  /**
   * What the tests lay over the files' environment, and only this: a smaller real dataset and runs
   * that converge on it quickly (plain images, batches of 64). Everything else is the files'.
   */
  static final Map<String, Map<String, String>> SMALL_DATA =
      Map.of(
          "ingest",
          Map.of("INGEST_MAX_TRAIN_IMAGES", "6000", "INGEST_MAX_TEST_IMAGES", "1000"),
          "trainer",
          Map.of("TRAINER_BATCH_SIZE", "64", "TRAINER_AUGMENT_SHIFT", "0"));

  final LocalDeployment cluster;
  final KafkaConnection admin;
  private final String trainer;
  private final String inference;

  private BootedPipeline(LocalDeployment cluster) {
    this.cluster = cluster;
    this.admin = KafkaConnection.of(cluster.adminSettings());
    this.trainer = cluster.deployment().module("trainer").name();
    this.inference = cluster.deployment().module("inference").name();
  }

  /**
   * Boots {@code files} in {@code target/deploy-boot/<name>} (emptied first by the boot) with
   * {@code inferenceReplicas} inference replicas, the MNIST files copied into the volume {@code
   * mnistVolume}, and waits until every pod has started.
   */
  static BootedPipeline boot(
      Deployment files, String name, int inferenceReplicas, String mnistVolume) throws Exception {
    Path root = Path.of("target", "deploy-boot", name).toAbsolutePath();
    new MnistFiles(Path.of(Services.mnistDir()), true).ensurePresent();
    LocalDeployment cluster =
        LocalDeployment.boot(
            files,
            new LocalDeployment.Options(
                Services.REPO,
                root,
                Map.of(files.module("inference").name(), inferenceReplicas),
                SMALL_DATA,
                Map.of(mnistVolume, Path.of(Services.mnistDir()))));
    try {
      cluster.awaitStarted(Duration.ofMinutes(5));
    } catch (RuntimeException | InterruptedException e) {
      cluster.close();
      throw e;
    }
    return new BootedPipeline(cluster);
  }

  List<Pod> inference() {
    return cluster.pods(inference);
  }

  Pod trainer() {
    return cluster.pods(trainer).get(0);
  }

  /** The API token the files give the trainer (from a Secret or the compose environment). */
  String token() {
    return trainer().environment().getOrDefault("API_TOKEN", "");
  }

  /** Starts run {@code runId} of {@code epochs} epochs through the trainer's {@code /api/runs}. */
  void startRun(String runId, int epochs) throws Exception {
    HttpResponse<String> r =
        Services.HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + trainer().port() + "/api/runs"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + token())
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"runId\":\"" + runId + "\",\"epochs\":" + epochs + "}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("POST /api/runs: " + r.body()).isEqualTo(202);
  }

  /** The run's COMPLETED event, or null while it runs; a FAILED one fails the test. */
  TrainingEvent.Completed completed(String runId) {
    return Services.completedIn(read(Topic.TRAINING_EVENTS), runId);
  }

  TrainingEvent.Completed awaitCompleted(String runId) {
    TrainingEvent.Completed[] done = new TrainingEvent.Completed[1];
    await("run " + runId + " completes")
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> (done[0] = completed(runId)) != null);
    return done[0];
  }

  /** Waits until every inference replica serves {@code version}. */
  void awaitServing(long version, Duration within) {
    await("every inference replica serves v" + version)
        .atMost(within)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> inference().stream().allMatch(p -> Services.servingVersion(p.port()) == version));
  }

  /**
   * Trains run {@code runId} while watching what every inference replica serves, until the run
   * completes: the versions served meanwhile (an epoch of the unfinished run must not be among
   * them).
   */
  RunWatch trainWatching(String runId, int epochs) throws Exception {
    Set<Long> served = new LinkedHashSet<>();
    AtomicBoolean watching = new AtomicBoolean(true);
    Thread watcher =
        new Thread(
            () -> {
              while (watching.get()) {
                for (Pod p : inference()) {
                  long v = Services.servingVersion(p.port());
                  if (v >= 0) {
                    synchronized (served) {
                      served.add(v);
                    }
                  }
                }
              }
            },
            "serving-watch");
    watcher.start();
    startRun(runId, epochs);
    TrainingEvent.Completed done;
    try {
      done = awaitCompleted(runId);
    } finally {
      watching.set(false);
      watcher.join(10_000);
    }
    Set<Long> runVersions = new LinkedHashSet<>();
    for (ConsumerRecord<String, byte[]> r : read(Topic.TRAINING_EVENTS)) {
      TrainingEvent e = TrainingEvent.decode(r.value());
      if (runId.equals(e.runId()) && e instanceof TrainingEvent.Epoch ep) {
        runVersions.add(ep.modelVersion());
      }
    }
    synchronized (served) {
      return new RunWatch(done, Set.copyOf(served), Set.copyOf(runVersions));
    }
  }

  /**
   * What was served while a run trained: {@code served} every version any replica served before the
   * run's COMPLETED event was read, {@code runVersions} the run's epochs' versions.
   */
  record RunWatch(TrainingEvent.Completed completed, Set<Long> served, Set<Long> runVersions) {

    /** Fails when an epoch of the run served before the run had completed. */
    void assertNoUnfinishedEpochServed() {
      Set<Long> early = new LinkedHashSet<>(served);
      early.retainAll(runVersions);
      early.remove(completed.modelVersion()); // its last epoch may serve once COMPLETED is out
      assertThat(early)
          .as(
              "versions of run "
                  + completed.runId()
                  + " (epochs "
                  + runVersions
                  + ") served while it was still training (served: "
                  + served
                  + ")")
          .isEmpty();
    }
  }

  /**
   * Sends {@code count} test digits as image events with ids {@code <prefix><i>}, as the cluster's
   * admin.
   */
  List<String> sendImages(String prefix, int count) throws Exception {
    MnistSet test = new MnistFiles(Path.of(Services.mnistDir()), true).test();
    List<String> ids = new ArrayList<>();
    try (KafkaProducer<String, byte[]> producer = KafkaClients.writer(admin, Map.of())) {
      for (int i = 0; i < count; i++) {
        int[] pixels = new int[MnistSet.IMAGE_BYTES];
        int n = i % test.count();
        for (int p = 0; p < pixels.length; p++) {
          pixels[p] = test.pixel(n, p);
        }
        String id = prefix + i;
        ids.add(id);
        producer.send(
            new ProducerRecord<>(
                Services.TOPICS.name(Topic.DIGITS_IMAGES),
                id,
                ImageEvent.ofPixels(id, pixels).encode()));
      }
      producer.flush();
    }
    return ids;
  }

  /** Predictions per id among {@code ids}, read committed. */
  Map<String, Integer> predictionCounts(Set<String> ids) {
    Map<String, Integer> counts = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : read(Topic.DIGITS_PREDICTIONS)) {
      if (ids.contains(r.key())) {
        counts.merge(r.key(), 1, Integer::sum);
      }
    }
    return counts;
  }

  List<ConsumerRecord<String, byte[]>> read(Topic topic) {
    return TopicReader.of(admin).within(Duration.ofMinutes(1)).toEnd(Services.TOPICS.name(topic));
  }

  static HttpResponse<String> operatorPost(Pod pod, String path, String token) throws Exception {
    return Services.HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pod.port() + path))
            .timeout(Duration.ofSeconds(90))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + token)
            .POST(HttpRequest.BodyPublishers.ofString("{}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    cluster.close();
  }
}
