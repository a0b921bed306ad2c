package lenet.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import lenet.contract.topics.Topic;
import lenet.contract.wire.Prediction;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;

/**
 * Three new checkpoints arrive while HTTP clients and a Kafka producer keep the service busy: no
 * request fails, responses come from several versions, every Kafka event gets exactly one
 * prediction, and the replaced models are closed once drained (one live model at rest).
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class HotSwapTest {

  @Inject ModelManager models;

  @TestHTTPResource("/api/predict")
  URI predict;

  @Test
  void swapsUnderConcurrentHttpAndKafkaTrafficWithoutAFailedRequest() throws Exception {
    TestModels.ensureServing(models);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger ok = new AtomicInteger();
    List<String> failures = new CopyOnWriteArrayList<>();
    Set<Long> httpVersions = ConcurrentHashMap.newKeySet();
    ExecutorService clients = Executors.newFixedThreadPool(4);
    for (int t = 0; t < 3; t++) {
      int thread = t;
      clients.submit(
          () -> {
            int i = thread;
            while (!stop.get()) {
              int image = i++ % 20;
              try {
                HttpResponse<String> r =
                    http.send(
                        HttpRequest.newBuilder(predict)
                            .header("Content-Type", "application/json")
                            .POST(
                                HttpRequest.BodyPublishers.ofString(
                                    TestModels.pixelsJson(null, image)))
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                  failures.add(r.statusCode() + " " + r.body());
                } else {
                  Prediction p = Prediction.decode(r.body().getBytes(StandardCharsets.UTF_8));
                  httpVersions.add(p.modelVersion());
                  ok.incrementAndGet();
                }
              } catch (Exception e) {
                failures.add(e.toString());
              }
            }
            return null;
          });
    }
    String run = "swap-" + UUID.randomUUID().toString().substring(0, 8);
    AtomicInteger sent = new AtomicInteger();
    Future<?> kafka =
        clients.submit(
            () -> {
              try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
                Future<RecordMetadata> last = null;
                while (!stop.get()) {
                  int n = sent.getAndIncrement();
                  last =
                      producer.send(
                          new ProducerRecord<>(
                              Topic.DIGITS_IMAGES.defaultName(),
                              (run + "-" + n).getBytes(StandardCharsets.UTF_8),
                              TestModels.pixelsJson(null, n % 20)
                                  .getBytes(StandardCharsets.UTF_8)));
                  Thread.sleep(4);
                }
                last.get(30, TimeUnit.SECONDS);
              }
              return null;
            });

    double reloadsBefore = models.view().reloads();
    Thread.sleep(500);
    for (int swap = 0; swap < 3; swap++) {
      TestModels.publishAndAwait(models);
      Thread.sleep(700);
    }
    stop.set(true);
    kafka.get(30, TimeUnit.SECONDS);
    clients.shutdown();
    assertThat(clients.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

    assertThat(failures).as("failed HTTP requests").isEmpty();
    assertThat(ok.get()).as("successful HTTP requests").isGreaterThan(50);
    assertThat(httpVersions).as("versions seen over HTTP").hasSizeGreaterThanOrEqualTo(2);
    assertThat(models.view().reloads() - reloadsBefore).isGreaterThanOrEqualTo(3);

    int events = sent.get();
    var predictions =
        TestModels.readUntil(
            Topic.DIGITS_PREDICTIONS.defaultName(),
            k -> k.startsWith(run + "-"),
            m -> m.size() >= events,
            Duration.ofSeconds(60));
    assertThat(predictions).as("events with a prediction, of %d sent", events).hasSize(events);
    Set<Long> kafkaVersions = ConcurrentHashMap.newKeySet();
    predictions.forEach(
        (id, records) -> {
          assertThat(records).as("predictions for %s", id).hasSize(1);
          kafkaVersions.add(Prediction.decode(records.get(0).value()).modelVersion());
        });
    assertThat(kafkaVersions).as("versions seen over Kafka").hasSizeGreaterThanOrEqualTo(2);

    // Replaced models close once their last request finishes: native memory does not grow with
    // reloads.
    await().atMost(Duration.ofSeconds(10)).until(() -> models.liveModels() == 1);
  }
}
