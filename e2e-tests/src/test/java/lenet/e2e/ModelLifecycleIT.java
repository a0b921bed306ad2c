package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topic;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.SharedKafka;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The model lifecycle with real processes: three inference replicas behind one "Service" (a client
 * that spreads requests over them), a retrain while a client scores the test digits through the
 * Open Inference Protocol every second, then a rollback on one replica that reaches the others,
 * survives a kill -9 and reaches a replica started later, and a return to the champion.
 */
class ModelLifecycleIT {

  private static final Pattern FLOATS = Pattern.compile("-?\\d+(\\.\\d+)?([eE]-?\\d+)?");
  private static final int SCORED = 1000;

  static Services services;
  static int trainerPort;
  static final Map<String, Integer> replicas = new ConcurrentHashMap<>();

  @BeforeAll
  static void startServices() throws Exception {
    String bootstrap = SharedKafka.bootstrapServers();
    Services.TOPICS.ensureAll(KafkaConnection.to(bootstrap));
    // Model topics of this test's own: other tests' runs on the shared broker would be candidates
    // (or champions) here too, whichever test runs first.
    Map<String, String> ownModelTopics =
        Map.of(
            "TOPICS_MODEL_CHECKPOINTS", "lifecycle.model.checkpoints",
            "TOPICS_MODEL_CONTROL", "lifecycle.model.control");
    services = new Services(KafkaConnection.to(bootstrap), service -> ownModelTopics);
    trainerPort = Services.freePort();
    services.startIngestAndTrainer("lifecycle-", Services.freePort(), trainerPort);
    for (String name : List.of("A", "B", "C")) {
      startReplica(name, Services.freePort());
    }
    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .until(
            () ->
                Services.get(trainerPort, "/q/health/live").statusCode() == 200
                    && replicas.values().stream().allMatch(ModelLifecycleIT::caughtUp));
  }

  static void startReplica(String name, int port) throws Exception {
    replicas.put(name, port);
    services.start(
        "lifecycle-inference-" + name,
        "inference",
        port,
        "-Dinference.replica-id=" + name,
        "-Dinference.warm-up-passes=1");
  }

  static boolean caughtUp(int port) {
    try {
      return Services.get(port, "/api/models").body().contains("\"caughtUp\":true");
    } catch (Exception e) {
      return false;
    }
  }

  @AfterAll
  static void stopServices() throws InterruptedException {
    services.close();
  }

  @Test
  void retrainRollbackRestartAndFollowAcrossReplicas() throws Exception {
    // A champion to start from: this broker's, or a first run's.
    long before = Services.servingVersion(replicas.get("A"));
    if (before < 0) {
      before = train("lifecycle-0").modelVersion();
    }
    long champion = before;
    awaitAll(champion, Duration.ofMinutes(1));
    MnistSet test = new MnistFiles(Path.of(Services.mnistDir()), true).test();
    List<String> requests = inferRequests(test);

    // A client scores the test digits every second, round robin over the replicas, while a
    // retrain runs. Its accuracy must never drop below what the champion scored before.
    double baseline = accuracy(replicas.get("A"), requests, test).accuracy();
    List<Scored> seen = new ArrayList<>();
    AtomicBoolean scoring = new AtomicBoolean(true);
    Thread client =
        new Thread(
            () -> {
              int i = 0;
              while (scoring.get()) {
                int port = replicas.get(List.of("A", "B", "C").get(i++ % 3));
                try {
                  Scored s = accuracy(port, requests, test);
                  synchronized (seen) {
                    seen.add(s);
                  }
                  Thread.sleep(1000);
                } catch (InterruptedException e) {
                  return;
                } catch (Exception e) {
                  synchronized (seen) {
                    seen.add(new Scored(-1, -1, e.toString()));
                  }
                }
              }
            },
            "oip-client");
    client.start();
    TrainingEvent.Completed retrained = train("lifecycle-1");
    long next = retrained.modelVersion();
    awaitAll(next, Duration.ofMinutes(1));
    scoring.set(false);
    client.join(30_000);
    synchronized (seen) {
      assertThat(seen).as("requests scored during the retrain").hasSizeGreaterThanOrEqualTo(2);
      assertThat(seen)
          .allSatisfy(
              s -> {
                assertThat(s.error()).as("a failed request").isNull();
                assertThat(s.accuracy())
                    .as("accuracy of v%d during the retrain", s.version())
                    .isGreaterThanOrEqualTo(baseline);
                assertThat(s.version()).isIn(champion, next);
              });
    }

    // Without the operator's token a pin is refused (401) and changes nothing anywhere.
    HttpResponse<String> refused =
        Services.post(
            replicas.get("A"), "/api/models/" + champion + "/activate", "application/json", "{}");
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(401);
    assertThat(refused.body()).contains("NO_TOKEN");

    // Rollback on A: B and C follow within 10 s.
    HttpResponse<String> pinned =
        Services.operatorPost(replicas.get("A"), "/api/models/" + champion + "/activate");
    assertThat(pinned.statusCode()).as(pinned.body()).isEqualTo(200);
    long t0 = System.nanoTime();
    awaitAll(champion, Duration.ofSeconds(10));
    double converged = (System.nanoTime() - t0) / 1e9;
    System.out.printf("Pin reached every replica %.2f s after A answered%n", converged);

    // kill -9 of A, A again on its port, and a new replica D: all serve the pin.
    services.kill("lifecycle-inference-A");
    startReplica("A", replicas.get("A"));
    startReplica("D", Services.freePort());
    awaitAll(champion, Duration.ofMinutes(2));
    assertThat(Services.get(replicas.get("D"), "/api/models").body())
        .contains("\"mode\":\"PINNED\"");

    // follow on B: every replica returns to the champion.
    assertThat(Services.operatorPost(replicas.get("B"), "/api/models/follow").statusCode())
        .isEqualTo(200);
    awaitAll(next, Duration.ofSeconds(10));
  }

  private static TrainingEvent.Completed train(String runId) throws Exception {
    services.send(Topic.TRAINING_COMMANDS, runId, "{\"runId\": \"" + runId + "\", \"epochs\": 2}");
    TrainingEvent.Completed[] done = new TrainingEvent.Completed[1];
    await()
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> (done[0] = services.completed(runId)) != null);
    return done[0];
  }

  private static void awaitAll(long version, Duration within) {
    await("every replica serves v" + version)
        .atMost(within)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                replicas.values().stream()
                    .allMatch(port -> Services.servingVersion(port) == version));
  }

  record Scored(long version, double accuracy, String error) {}

  /**
   * Scores the first {@value #SCORED} test digits in batches of 250 (the OIP limit is 256) on one
   * replica; the version is the last batch's.
   */
  private static Scored accuracy(int port, List<String> requests, MnistSet test) throws Exception {
    int right = 0;
    long version = -1;
    for (int batch = 0; batch < SCORED / 250; batch++) {
      HttpResponse<String> r =
          Services.post(port, "/v2/models/lenet5/infer", "application/json", requests.get(batch));
      if (r.statusCode() != 200) {
        return new Scored(-1, -1, r.statusCode() + " " + r.body());
      }
      String body = r.body();
      Matcher v = Pattern.compile("\"model_version\":\"(\\d+)\"").matcher(body);
      version = v.find() ? Long.parseLong(v.group(1)) : -1;
      String data = body.substring(body.lastIndexOf("\"data\":[") + 8, body.lastIndexOf(']'));
      Matcher m = FLOATS.matcher(data);
      for (int i = 0; i < 250; i++) {
        int best = 0;
        double bestP = -1;
        for (int k = 0; k < 10 && m.find(); k++) {
          double p = Double.parseDouble(m.group());
          if (p > bestP) {
            bestP = p;
            best = k;
          }
        }
        right += best == test.labels()[batch * 250 + i] ? 1 : 0;
      }
    }
    return new Scored(version, right / (double) SCORED, null);
  }

  /** Four OIP request bodies, UINT8 [250,28,28] each: the first {@value #SCORED} test digits. */
  private static List<String> inferRequests(MnistSet test) {
    List<String> out = new ArrayList<>();
    for (int batch = 0; batch < SCORED / 250; batch++) {
      StringBuilder b =
          new StringBuilder(
              "{\"inputs\":[{\"name\":\"images\",\"datatype\":\"UINT8\",\"shape\":[250,28,28],\"data\":[");
      for (int i = 0; i < 250; i++) {
        for (int p = 0; p < MnistSet.IMAGE_BYTES; p++) {
          if (i > 0 || p > 0) {
            b.append(',');
          }
          b.append(test.pixel(batch * 250 + i, p));
        }
      }
      out.add(b.append("]}]}").toString());
    }
    return out;
  }
}
