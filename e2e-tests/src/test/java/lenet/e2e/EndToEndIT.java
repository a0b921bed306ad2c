package lenet.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.awt.image.BufferedImage;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.TrainingEvent;
import lenet.e2e.monitoring.MonitoringFiles;
import lenet.kafka.SharedKafka;
import lenet.launcher.Launched;
import lenet.launcher.Launcher;
import lenet.launcher.LocalPrometheus;
import lenet.launcher.cli.Json;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The packaged services as a user runs them ({@code java -jar .../quarkus-run.jar}), each its own
 * process, on a real broker, with a small real MNIST subset: ingest -> train -> publish -> hot-load
 * -> score, then a retrain from the command topic served without a restart, and bad events in the
 * dead-letter topic.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EndToEndIT {

  static final Topics TOPICS = Services.TOPICS;
  static Services services;
  static String bootstrap;
  static int inferencePort;
  static int trainerPort;
  static int ingestPort;
  static OtlpReceiver otlp;

  /** The trace a client starts and sends its image event e2e-img-0 in (W3C ids, hex). */
  static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  static final String CLIENT_SPAN = "00f067aa0ba902b7";

  /** The trace a client sends its retrain command e2e-2 in. */
  static final String RETRAIN_TRACE = "0af7651916cd43dd8448eb211c80319c";

  static final String RETRAIN_SPAN = "b7ad6b7169203331";

  /** The trace a client sends an HTTP prediction in. */
  static final String HTTP_TRACE = "5b8efff798038103d269b633813fc60c";

  @BeforeAll
  static void startServices() throws Exception {
    bootstrap = SharedKafka.bootstrapServers();
    TOPICS.ensureAll(KafkaConnection.to(bootstrap));
    // Model topics of this test's own: the shared broker holds other tests' runs, and a better
    // champion among them would rightly keep this test's first model from serving.
    Map<String, String> ownModelTopics =
        Map.of(
            "TOPICS_MODEL_CHECKPOINTS", "e2e.model.checkpoints",
            "TOPICS_MODEL_CONTROL", "e2e.model.control");
    // Tracing on, every span sent to this test's OTLP receiver (docs/tracing.md).
    otlp = new OtlpReceiver();
    Map<String, String> env = new HashMap<>(ownModelTopics);
    env.putAll(otlp.env());
    services = new Services(KafkaConnection.to(bootstrap), service -> env);
    ingestPort = Services.freePort();
    trainerPort = Services.freePort();
    inferencePort = Services.freePort();
    services.startAll("", ingestPort, trainerPort, inferencePort);
  }

  @AfterAll
  static void stopServices() throws InterruptedException {
    services.close();
    otlp.close();
  }

  /**
   * 20 PNGs of 4096x4096 (a few KB each, 16.7 million pixels decoded) and 20 of 1400x1400 (just
   * under the pixel budget) at once: each is refused (413, from its header), answered, or turned
   * away because the service is busy (503) or has no model yet; the process stays within its memory
   * budget and answers normally afterwards.
   */
  @Test
  void imageBombsAndAFloodOfLargeImagesAreBounded() throws Exception {
    long pid = services.process("inference").pid();
    byte[] bomb = png(4096, 4096);
    byte[] large = png(1400, 1400);
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> sent =
        new java.util.ArrayList<>();
    for (int i = 0; i < 40; i++) {
      sent.add(
          Services.HTTP.sendAsync(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create("http://127.0.0.1:" + inferencePort + "/api/predict"))
                  .timeout(Duration.ofSeconds(60))
                  .header("Content-Type", "image/png")
                  .POST(
                      java.net.http.HttpRequest.BodyPublishers.ofByteArray(
                          i % 2 == 0 ? bomb : large))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    Map<Integer, Integer> statuses = new java.util.TreeMap<>();
    for (int i = 0; i < sent.size(); i++) {
      HttpResponse<String> r = sent.get(i).get(90, java.util.concurrent.TimeUnit.SECONDS);
      statuses.merge(r.statusCode(), 1, Integer::sum);
      if (i % 2 == 0) {
        assertThat(r.statusCode()).as("a 4096x4096 PNG: " + r.body()).isIn(413, 503);
      } else {
        assertThat(r.statusCode()).as("a 1400x1400 PNG: " + r.body()).isIn(200, 503);
      }
    }
    long rssMb = rssMb(pid);
    System.out.printf("40 large images at once: %s; inference RSS %d MB%n", statuses, rssMb);
    // -Xmx1g heap plus libtorch and the JVM's own: far below what 20 decoded 4096x4096 images
    // (20 x 64 MB as ARGB, plus copies) would take on top of it.
    assertThat(rssMb).isLessThan(1800);
    assertThat(services.process("inference").isAlive()).isTrue();
    assertThat(Services.get(inferencePort, "/q/health/live").statusCode()).isEqualTo(200);
    HttpResponse<String> alone =
        Services.HTTP.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + inferencePort + "/api/predict"))
                .header("Content-Type", "image/png")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(bomb))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(alone.statusCode()).as("a bomb alone: " + alone.body()).isEqualTo(413);
  }

  private static byte[] png(int width, int height) throws java.io.IOException {
    System.setProperty("java.awt.headless", "true");
    java.awt.image.BufferedImage image =
        new java.awt.image.BufferedImage(
            width, height, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
    java.awt.Graphics2D g = image.createGraphics();
    g.setColor(java.awt.Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.setColor(java.awt.Color.BLACK);
    g.fillOval(width / 3, height / 4, width / 3, height / 2); // a zero
    g.dispose();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  private static long rssMb(long pid) throws java.io.IOException {
    for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
      }
    }
    throw new IllegalStateException("no VmRSS for pid " + pid);
  }

  @Test
  void trainsServesScoresRetrainsAndDeadLetters() throws Exception {
    // 1. A run commanded over Kafka, as a user would with kcat.
    services.send(Topic.TRAINING_COMMANDS, "e2e-1", "{\"runId\": \"e2e-1\", \"epochs\": 2}");
    TrainingEvent.Completed first = awaitCompleted("e2e-1");
    assertThat(first.testAccuracy()).isGreaterThan(0.85);
    long v1 = first.modelVersion();
    await().atMost(Duration.ofMinutes(1)).until(() -> Services.servingVersion(inferencePort) == v1);
    long inferencePid = services.process("inference").pid();

    // 2. Image events scored in micro-batches; bad ones dead-lettered with a reason.
    MnistSet test = new MnistFiles(Path.of(Services.mnistDir()), true).test();
    Map<String, Integer> truth = new HashMap<>();
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.writer(KafkaConnection.to(bootstrap), Map.of())) {
      for (int i = 0; i < 100; i++) {
        int[] pixels = new int[784];
        for (int p = 0; p < 784; p++) {
          pixels[p] = test.pixel(i, p);
        }
        String id = "e2e-img-" + i;
        truth.put(id, (int) test.labels()[i]);
        ProducerRecord<String, byte[]> event =
            new ProducerRecord<>(
                TOPICS.name(Topic.DIGITS_IMAGES), id, ImageEvent.ofPixels(id, pixels).encode());
        if (i == 0) { // sent in a trace of the client's
          event
              .headers()
              .add(
                  "traceparent",
                  ("00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01")
                      .getBytes(StandardCharsets.UTF_8));
        }
        producer.send(event);
      }
      producer.send(
          new ProducerRecord<>(
              TOPICS.name(Topic.DIGITS_IMAGES),
              "e2e-bad-1",
              "not json".getBytes(StandardCharsets.UTF_8)));
      producer.send(
          new ProducerRecord<>(
              TOPICS.name(Topic.DIGITS_IMAGES),
              "e2e-bad-2",
              "{\"pixels\": [1, 2, 3]}".getBytes(StandardCharsets.UTF_8)));
      producer.flush();
    }
    Map<String, Prediction> predictions = new HashMap<>();
    Map<String, String> traceparents = new HashMap<>();
    await()
        .atMost(Duration.ofMinutes(1))
        .until(
            () -> {
              predictions.clear();
              for (ConsumerRecord<String, byte[]> r :
                  services.readAll(TOPICS.name(Topic.DIGITS_PREDICTIONS))) {
                if (r.key() != null && r.key().startsWith("e2e-img-")) {
                  Prediction p = Prediction.decode(r.value());
                  predictions.put(r.partition() + "@" + r.offset(), p);
                  Header tp = r.headers().lastHeader("traceparent");
                  traceparents.put(
                      r.key(), tp == null ? null : new String(tp.value(), StandardCharsets.UTF_8));
                }
              }
              return predictions.values().stream().map(Prediction::id).distinct().count() == 100;
            });
    assertThat(predictions).as("exactly one prediction per event").hasSize(100);
    long correct =
        predictions.values().stream().filter(p -> truth.get(p.id()) == p.digit()).count();
    assertThat(correct).isGreaterThanOrEqualTo(85);
    assertThat(predictions.values()).allSatisfy(p -> assertThat(p.modelVersion()).isEqualTo(v1));
    assertClientTraceHoldsItsScoring(traceparents.get("e2e-img-0"), v1);

    List<ConsumerRecord<String, byte[]>> dead =
        services.readAll(TOPICS.name(Topic.DIGITS_IMAGES_DLQ));
    Map<String, String> reasons = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : dead) {
      Header h = r.headers().lastHeader("dead-letter-reason");
      reasons.put(r.key(), h == null ? null : new String(h.value(), StandardCharsets.UTF_8));
      if ("e2e-bad-1".equals(r.key())) {
        assertThat(new String(r.value(), StandardCharsets.UTF_8)).isEqualTo("not json");
      }
    }
    assertThat(reasons.get("e2e-bad-1")).contains("MALFORMED_JSON");
    assertThat(reasons.get("e2e-bad-2")).contains("WRONG_PIXEL_COUNT");

    // 3. A retrain from the command topic (the same settings and seed: on CPU the same model, so
    // the gate finds it as good as the champion): only its final epoch, once gated, serves, in the
    // same process, without a restart. Its epoch 1 (worse) never serves.
    services.send(
        Topic.TRAINING_COMMANDS,
        "e2e-2",
        "{\"runId\": \"e2e-2\", \"epochs\": 2}",
        List.of(
            new org.apache.kafka.common.header.internals.RecordHeader(
                "traceparent",
                ("00-" + RETRAIN_TRACE + "-" + RETRAIN_SPAN + "-01")
                    .getBytes(StandardCharsets.UTF_8))));
    java.util.Set<Long> served = new java.util.TreeSet<>();
    TrainingEvent.Completed[] second = new TrainingEvent.Completed[1];
    await()
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              served.add(Services.servingVersion(inferencePort));
              second[0] = services.completed("e2e-2");
              return second[0] != null
                  && Services.servingVersion(inferencePort) == second[0].modelVersion();
            });
    assertThat(second[0].modelVersion()).isGreaterThan(v1);
    served.add(Services.servingVersion(inferencePort));
    assertThat(served)
        .as("versions served during the retrain: the old champion, then the new one, nothing else")
        .isSubsetOf(v1, second[0].modelVersion())
        .contains(second[0].modelVersion());
    assertThat(services.process("inference").isAlive()).isTrue();
    assertThat(services.process("inference").pid()).isEqualTo(inferencePid);
    HttpResponse<String> predicted =
        Services.post(
            inferencePort,
            "/api/predict",
            "application/json",
            new String(
                ImageEvent.ofPixels("x", pixelsOf(test, 0)).encode(), StandardCharsets.UTF_8));
    assertThat(predicted.statusCode()).isEqualTo(200);
    assertThat(Prediction.decode(predicted.body().getBytes(StandardCharsets.UTF_8)).modelVersion())
        .isEqualTo(second[0].modelVersion());
    assertRetrainTraceHoldsRunCheckpointsGateAndPromotion(second[0].modelVersion());
    assertHttpPredictionIsTraced(pixelsOf(test, 1), second[0].modelVersion());
  }

  /** An HTTP prediction sent with a traceparent: its server span, with the model version. */
  private static void assertHttpPredictionIsTraced(int[] pixels, long version) throws Exception {
    HttpResponse<String> r =
        Services.HTTP.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + inferencePort + "/api/predict"))
                .header("Content-Type", "application/json")
                .header("traceparent", "00-" + HTTP_TRACE + "-e457b5a2e4d86bd1-01")
                .POST(
                    java.net.http.HttpRequest.BodyPublishers.ofByteArray(
                        ImageEvent.ofPixels("e2e-http-traced", pixels).encode()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              OtlpReceiver.Received server =
                  otlp.trace(HTTP_TRACE).stream()
                      .filter(s -> s.attribute("lenet.model.version").isPresent())
                      .findFirst()
                      .orElse(null);
              assertThat(server).as("the request's span in " + otlp.trace(HTTP_TRACE)).isNotNull();
              assertThat(server.service()).isEqualTo("inference-service");
              assertThat(server.span().getKind())
                  .isEqualTo(io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER);
              assertThat(server.attribute("lenet.model.version").orElseThrow().getIntValue())
                  .isEqualTo(version);
              assertThat(server.attribute("lenet.event.id").orElseThrow().getStringValue())
                  .isEqualTo("e2e-http-traced");
            });
  }

  /**
   * The retrain command's trace holds its run ({@code train}, the client's span's child), each
   * epoch's checkpoint ({@code epoch} spans, their checkpoint records carrying a traceparent of the
   * trace), the gate's scoring of the final one ({@code gate}) and its promotion ({@code verdict}
   * PROMOTE), across the trainer and inference processes.
   */
  private static void assertRetrainTraceHoldsRunCheckpointsGateAndPromotion(long version) {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              List<OtlpReceiver.Received> trace = otlp.trace(RETRAIN_TRACE);
              OtlpReceiver.Received run = only(trace, "train");
              assertThat(run.service()).isEqualTo("trainer-service");
              assertThat(run.parentSpanId()).isEqualTo(RETRAIN_SPAN);
              assertThat(run.attribute("lenet.run.id").orElseThrow().getStringValue())
                  .isEqualTo("e2e-2");
              List<OtlpReceiver.Received> epochs =
                  trace.stream().filter(s -> s.name().equals("epoch")).toList();
              assertThat(epochs).hasSize(2).allMatch(e -> e.parentSpanId().equals(run.spanId()));
              assertThat(epochs)
                  .extracting(e -> e.attribute("lenet.model.version").orElseThrow().getIntValue())
                  .contains(version);
              OtlpReceiver.Received gate = only(trace, "gate");
              assertThat(gate.service()).isEqualTo("inference-service");
              assertThat(gate.attribute("lenet.model.version").orElseThrow().getIntValue())
                  .isEqualTo(version);
              assertThat(gate.attribute("lenet.gate.passed").orElseThrow().getBoolValue()).isTrue();
              OtlpReceiver.Received verdict = only(trace, "verdict");
              assertThat(verdict.parentSpanId()).isEqualTo(gate.spanId());
              assertThat(verdict.attribute("lenet.verdict").orElseThrow().getStringValue())
                  .isEqualTo("PROMOTE");
            });
    List<String> checkpointTraces = new java.util.ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : services.readAll("e2e.model.checkpoints")) {
      Header tp = r.headers().lastHeader("traceparent");
      if (tp != null && r.key().startsWith("lenet5/v")) {
        checkpointTraces.add(new String(tp.value(), StandardCharsets.UTF_8));
      }
    }
    assertThat(checkpointTraces)
        .as("checkpoints in the retrain's trace")
        .filteredOn(t -> t.contains(RETRAIN_TRACE))
        .hasSize(2);
  }

  private static OtlpReceiver.Received only(List<OtlpReceiver.Received> trace, String name) {
    List<OtlpReceiver.Received> named = trace.stream().filter(s -> s.name().equals(name)).toList();
    assertThat(named).as(name + " in " + trace).hasSize(1);
    return named.get(0);
  }

  /**
   * The event sent with a {@code traceparent} finds its prediction in the same trace: the
   * prediction carries a {@code traceparent} of that trace, and the receiver got the batch's
   * scoring span in it, a child of the client's span, with the event's id and the model version.
   * Every other prediction carries a trace context too (its batch span's).
   */
  private static void assertClientTraceHoldsItsScoring(String traceparent, long version) {
    assertThat(traceparent).as("the prediction's traceparent").contains("-" + CLIENT_TRACE + "-");
    String scoring = "score " + TOPICS.name(Topic.DIGITS_IMAGES);
    OtlpReceiver.Received[] span = new OtlpReceiver.Received[1];
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              span[0] =
                  otlp.trace(CLIENT_TRACE).stream()
                      .filter(s -> s.name().equals(scoring))
                      .findFirst()
                      .orElse(null);
              assertThat(span[0]).as("the scoring span in " + otlp.all()).isNotNull();
            });
    assertThat(span[0].service()).isEqualTo("inference-service");
    assertThat(span[0].parentSpanId()).isEqualTo(CLIENT_SPAN);
    assertThat(span[0].attribute("lenet.event.ids").orElseThrow().getArrayValue().getValuesList())
        .extracting(io.opentelemetry.proto.common.v1.AnyValue::getStringValue)
        .contains("e2e-img-0");
    assertThat(span[0].attribute("lenet.model.version").orElseThrow().getIntValue())
        .isEqualTo(version);
    assertThat(span[0].linkedTraces()).contains(CLIENT_TRACE);
    assertThat(traceparent).contains("-" + span[0].spanId() + "-");
  }

  /**
   * The dashboard and the alerts against the running services: a real Prometheus (Debian's {@code
   * prometheus}; skipped, saying so, where none is installed) scrapes the three services every
   * second with monitoring/alerts.yml loaded. Every dashboard query returns a series; every alert
   * expression evaluates (a quiet alert returns none); every metric either names is exported by a
   * service at /q/metrics and has series in Prometheus; the rules load healthy and none fires on
   * this healthy pipeline; the consumer lag has a series per partition of digits.images. Last, so
   * that the other tests' runs, predictions and dead letters are there (it trains a model itself
   * only when none serves).
   */
  @Test
  @Order(Integer.MAX_VALUE - 1) // before the CLI's 1-epoch run, which the gate may reject
  void prometheusRunsEveryPanelQueryAndAlertExpressionOnTheServicesMetrics() throws Exception {
    java.util.Optional<Path> binary = LocalPrometheus.onPath();
    Assumptions.assumeTrue(
        binary.isPresent(),
        "SKIPPED: no prometheus on the PATH (apt-get install prometheus): the dashboard and the"
            + " alerts were NOT run against the services");
    if (Services.servingVersion(inferencePort) < 0) {
      services.send(
          Topic.TRAINING_COMMANDS, "e2e-prom", "{\"runId\": \"e2e-prom\", \"epochs\": 1}");
      long v = awaitCompleted("e2e-prom").modelVersion();
      await()
          .atMost(Duration.ofMinutes(1))
          .until(() -> Services.servingVersion(inferencePort) == v);
    }
    // A dead letter, and a labelled HTTP prediction (live accuracy).
    services.send(Topic.DIGITS_IMAGES, "e2e-prom-bad", "not json");
    MnistSet test = new MnistFiles(Path.of(Services.mnistDir()), true).test();
    HttpResponse<String> predicted =
        Services.post(
            inferencePort,
            "/api/predict",
            "application/json",
            new String(
                ImageEvent.ofPixels("e2e-prom-1", pixelsOf(test, 0)).encode(),
                StandardCharsets.UTF_8));
    assertThat(predicted.statusCode()).isEqualTo(200);
    String id = Prediction.decode(predicted.body().getBytes(StandardCharsets.UTF_8)).id();
    HttpResponse<String> labelled =
        Services.post(
            inferencePort,
            "/api/feedback",
            "application/json",
            "{\"id\": \"" + id + "\", \"digit\": " + test.labels()[0] + "}");
    assertThat(labelled.statusCode()).as(labelled.body()).isEqualTo(202);
    // A request refused for want of the API token (it changes nothing).
    assertThat(
            Services.post(inferencePort, "/api/models/follow", "application/json", "{}")
                .statusCode())
        .isEqualTo(401);
    java.util.Set<String> exported = new java.util.TreeSet<>();
    await("the metrics that appear with use")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofSeconds(2))
        .until(
            () -> {
              exported.clear();
              for (int port : List.of(ingestPort, trainerPort, inferencePort)) {
                exported.addAll(metricNames(Services.get(port, "/q/metrics").body()));
              }
              return exported.containsAll(
                  List.of(
                      "inference_live_accuracy",
                      "inference_dead_letters_total",
                      "inference_kafka_lag",
                      "inference_gate_verdicts_total",
                      "api_refused_requests_total"));
            });

    int port = Services.freePort();
    Path dir = Path.of("target", "prometheus-e2e").toAbsolutePath();
    deleteTree(dir);
    Map<String, Integer> jobs = new java.util.LinkedHashMap<>();
    jobs.put("ingest-service", ingestPort);
    jobs.put("trainer-service", trainerPort);
    jobs.put("inference-service", inferencePort);
    MonitoringFiles files = new MonitoringFiles(Services.REPO.toAbsolutePath().normalize());
    LocalPrometheus local = new LocalPrometheus(binary.get(), port, dir);
    Launched prometheus =
        Launcher.start(
            local.component(
                "prometheus", jobs, files.alerts(), "1s", Services.LOGS.resolve("prometheus.log")));
    try {
      prometheus.awaitReady(Duration.ofSeconds(60));
      await("three targets scraped, twice")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> series(port, "count_over_time(up[1m]) >= 2 and up == 1").size() == 3);
      Thread.sleep(3000); // a few more samples for the rates

      Map<String, String> panels = files.panelExpressions();
      Map<String, String> alerts = files.alertExpressions();
      assertThat(panels).hasSizeGreaterThan(10);
      List<String> problems = new java.util.ArrayList<>();
      panels.forEach(
          (panel, expr) -> {
            if (series(port, expr).isEmpty()) {
              problems.add("panel " + panel + ": no series for " + expr);
            }
          });
      alerts.forEach((alert, expr) -> series(port, expr)); // evaluates, or throws
      java.util.Set<String> named = new java.util.TreeSet<>();
      panels.values().forEach(e -> named.addAll(MonitoringFiles.metricNames(e)));
      alerts.values().forEach(e -> named.addAll(MonitoringFiles.metricNames(e)));
      named.remove("up"); // Prometheus's own
      for (String metric : named) {
        if (!exported.contains(metric)) {
          problems.add(metric + " is exported by no service");
        } else if (series(port, metric).isEmpty()) {
          problems.add(metric + " has no series in Prometheus");
        }
      }
      assertThat(problems).as("dashboard and alert queries on the services' metrics").isEmpty();
      System.out.printf(
          "Prometheus: %d panel queries and %d alert expressions on %d metrics%n",
          panels.size(), alerts.size(), named.size());

      String rules = Services.get(port, "/api/v1/rules").body();
      assertThat(rules).contains(alerts.keySet()).doesNotContain("\"health\":\"err\"");
      assertThat(series(port, "inference_model_champion_version >= 1"))
          .as("the champion is reported")
          .hasSize(1);
      assertThat(series(port, "ALERTS{alertstate=\"firing\"}"))
          .as("no alert fires on a healthy pipeline")
          .isEmpty();
      assertThat(
              series(
                  port, "inference_kafka_lag{topic=\"" + TOPICS.name(Topic.DIGITS_IMAGES) + "\"}"))
          .as("a lag series per partition of digits.images")
          .hasSize(Topic.DIGITS_IMAGES.partitions());
    } finally {
      prometheus.stop(Duration.ofSeconds(10));
    }
  }

  /** The series of an instant query; fails when Prometheus refuses the expression. */
  @SuppressWarnings("unchecked")
  private static List<Object> series(int port, String expr) {
    try {
      HttpResponse<String> r =
          Services.get(
              port,
              "/api/v1/query?query=" + java.net.URLEncoder.encode(expr, StandardCharsets.UTF_8));
      Map<String, Object> body = new org.yaml.snakeyaml.Yaml().load(r.body());
      assertThat(body.get("status")).as(expr + ": " + r.body()).isEqualTo("success");
      return (List<Object>) ((Map<String, Object>) body.get("data")).get("result");
    } catch (Exception e) {
      throw new IllegalStateException(expr, e);
    }
  }

  /** The metric names of a /q/metrics page. */
  private static java.util.Set<String> metricNames(String page) {
    java.util.Set<String> names = new java.util.TreeSet<>();
    for (String line : page.split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        names.add(line.split("[{ ]", 2)[0]);
      }
    }
    return names;
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    if (java.nio.file.Files.exists(dir)) {
      try (var paths = java.nio.file.Files.walk(dir)) {
        for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
          java.nio.file.Files.delete(p);
        }
      }
    }
  }

  private static int[] pixelsOf(MnistSet set, int i) {
    int[] pixels = new int[784];
    for (int p = 0; p < 784; p++) {
      pixels[p] = set.pixel(i, p);
    }
    return pixels;
  }

  private static TrainingEvent.Completed awaitCompleted(String runId) {
    TrainingEvent.Completed[] done = new TrainingEvent.Completed[1];
    await()
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> (done[0] = services.completed(runId)) != null);
    return done[0];
  }

  /**
   * {@code ./pipeline}'s everyday commands (the launcher's {@code lenet.launcher.cli.Cli}, run as
   * the script runs it) against these services: {@code train} shows a progress bar and ends with
   * the gate's verdict, {@code predict} on a PNG names the digit and the version that serves, and
   * {@code runs}, {@code models} and {@code --json} agree with it. Last: its one-epoch run must not
   * be the champion the other tests' runs are gated against.
   */
  @Test
  @Order(Integer.MAX_VALUE)
  void theCliTrainsPredictsAndLists() throws Exception {
    Path run = Files.createDirectories(Path.of("target", "e2e-cli-run")).toAbsolutePath();
    Files.writeString(run.resolve("api-token"), Services.API_TOKEN);

    CliOutput train = pipeline(run, "train", "--epochs", "1", "--run-id", "e2e-cli");
    assertThat(train.status()).as(train.text()).isZero();
    assertThat(train.text())
        .contains("e2e-cli RUNNING")
        .contains("e2e-cli COMPLETED [##############################] 1/1 epochs");
    Matcher done = Pattern.compile("run e2e-cli completed: model v(\\d+)").matcher(train.text());
    assertThat(done.find()).as(train.text()).isTrue();
    long version = Long.parseLong(done.group(1));
    List<String> lines = train.text().lines().toList();
    assertThat(lines.get(lines.size() - 1))
        .matches("gate: v" + version + " (CHAMPION|REJECTED) \\(dev accuracy 0\\.\\d{4}\\)(: .+)?");

    Path png = Path.of("target", "e2e-cli-digit.png").toAbsolutePath();
    MnistSet test = new MnistFiles(Path.of(Services.mnistDir()), true).test();
    BufferedImage digit = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    for (int p = 0; p < 784; p++) {
      digit.getRaster().setSample(p % 28, p / 28, 0, test.pixel(0, p));
    }
    ImageIO.write(digit, "png", png.toFile());
    long serving = Services.servingVersion(inferencePort);
    long label = test.labels()[0];
    CliOutput predicted = pipeline(run, "predict", png.toString());
    assertThat(predicted.text())
        .as("MNIST test image #0 is a " + label)
        .startsWith("digit " + label + "  (confidence 0.")
        .endsWith(", model v" + serving + ")\n");
    Map<String, Object> byId =
        Json.object(Json.parse(pipeline(run, "predict", "--id", "0", "--json").text()));
    assertThat(byId).containsEntry("modelVersion", serving).containsEntry("trueLabel", label);

    CliOutput runs = pipeline(run, "runs");
    assertThat(runs.text()).containsPattern("(?m)^e2e-cli +COMPLETED +1/1 .* v" + version + " ");
    assertThat(Json.list(Json.parse(pipeline(run, "runs", "--json").text())))
        .map(Json::object)
        .anySatisfy(
            r ->
                assertThat(r)
                    .containsEntry("runId", "e2e-cli")
                    .containsEntry("modelVersion", version));
    assertThat(pipeline(run, "models").text())
        .containsPattern("(?m)^" + serving + " \\* +CHAMPION ")
        .containsPattern("(?m)^" + version + " .* e2e-cli ");
    assertThat(
            Json.list(
                Json.object(Json.parse(pipeline(run, "models", "--json").text())).get("versions")))
        .map(Json::object)
        .anySatisfy(
            v -> assertThat(v).containsEntry("version", version).containsEntry("runId", "e2e-cli"));
    CliOutput refused = pipeline(run, "cancel", "e2e-cli");
    assertThat(refused.status()).isEqualTo(1);
    assertThat(refused.text()).contains("run e2e-cli is already COMPLETED");
  }

  record CliOutput(int status, String text) {}

  /** {@code ./pipeline ARGS} as the script runs it, on this test's ports and run folder. */
  private static CliOutput pipeline(Path run, String... args) throws Exception {
    Path jar = Services.REPO.resolve("launcher/target/launcher.jar").toAbsolutePath();
    assertThat(jar).as("built by the reactor before this module").exists();
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                Services.TOPOLOGY.java().toString(),
                "-Xmx64m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                jar.toString(),
                "lenet.launcher.Pipeline"));
    command.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .directory(Services.REPO.toAbsolutePath().toFile())
            .redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.equals("API_TOKEN") || k.endsWith("_PORT"));
    pb.environment()
        .putAll(
            Map.of(
                "PIPELINE_RUN", run.toString(),
                "TRAINER_PORT", "" + trainerPort,
                "INFERENCE_PORT", "" + inferencePort,
                "INGEST_PORT", "" + ingestPort));
    Process p = pb.start();
    p.getOutputStream().close();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(3, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
    return new CliOutput(p.exitValue(), text);
  }
}
