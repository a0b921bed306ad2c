package lenet.trainer.runs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import lenet.contract.dataset.MnistSet;
import lenet.contract.image.DigitImages;
import lenet.contract.topics.Topic;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Label;
import lenet.contract.wire.TrainingEvent;
import lenet.kafka.SharedKafka;
import lenet.kafka.SharedKafkaResource;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import lenet.trainer.feedback.FeedbackImages;
import lenet.trainer.feedback.FeedbackMix;
import lenet.trainer.feedback.FeedbackReader;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A run that asks for feedback trains on labelled images planted on the real broker in every form
 * they reach Kafka (JSON pixels, a PNG, the raw u8 record on {@code digits.images}, an HTTP-scored
 * image's prediction with its pixels on {@code digits.predictions}); its STARTED event says what it
 * read, up to which offsets; its training split grows by the capped number; the held-out part is
 * measured in its EPOCH and COMPLETED events. A bad {@code feedback} is a FAILED run.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class FeedbackRunTest {

  /** MNIST training images on the test dataset: 3,000 less the dev split's 20%. */
  private static final int MNIST_TRAIN = 2400;

  /** Small enough that fewer feedback images may train than there are: the cap shows. */
  private static final double SHARE = 0.004;

  private static MnistSet mnist;

  @Inject FeedbackReader reader;

  @BeforeAll
  static void dataset() throws Exception {
    TrainerServiceTest.publishSmallDataset();
    mnist = new MnistFiles(Path.of(System.getProperty("mnist.dir", "../data/mnist")), false).test();
  }

  @Test
  void aRunWithFeedbackTrainsOnTheLabelledImagesAndSaysWhatItRead() throws Exception {
    String labels = TrainerServiceTest.TOPICS.name(Topic.DIGITS_LABELS);
    String images = TrainerServiceTest.TOPICS.name(Topic.DIGITS_IMAGES);
    String predictions = TrainerServiceTest.TOPICS.name(Topic.DIGITS_PREDICTIONS);
    List<String> found = new ArrayList<>();
    int labelRecords = 0;
    try (KafkaProducer<String, byte[]> producer = TrainerServiceTest.producer()) {
      int image = 0;
      for (int i = 0; i < 10; i++, image++) {
        String id = "json-" + i;
        send(producer, images, id, ImageEvent.ofPixels(id, pixels(image)).encode());
        found.add(id);
      }
      for (int i = 0; i < 10; i++, image++) {
        String id = "raw-" + i;
        ProducerRecord<String, byte[]> raw = new ProducerRecord<>(images, id, bytes(image));
        raw.headers()
            .add(
                ImageEvent.CONTENT_TYPE_HEADER,
                ImageEvent.RAW_CONTENT_TYPE.getBytes(StandardCharsets.UTF_8));
        producer.send(raw).get();
        found.add(id);
      }
      for (int i = 0; i < 10; i++, image++) {
        String id = "http-" + i;
        send(producer, predictions, id, prediction(id, pixels(image)));
        found.add(id);
      }
      // Keyless, the id in its value: the PNG is brought to MNIST form as inference does.
      send(producer, images, null, ImageEvent.ofEncoded("png-0", png(image++)).encode());
      found.add("png-0");
      // A prediction scored from Kafka carries no pixels: its image is missing.
      send(producer, predictions, "nopix-0", prediction("nopix-0", null));
      send(producer, images, "bad-0", "{\"id\":\"bad-0\",\"pixels\":[1,2,3]}".getBytes());
      send(producer, images, "gone-0", ImageEvent.ofPixels("gone-0", pixels(image++)).encode());
      send(producer, images, "unlabelled-0", ImageEvent.ofPixels("x", pixels(image)).encode());

      List<String> labelled = new ArrayList<>(found);
      labelled.addAll(List.of("nopix-0", "bad-0", "unknown-0", "gone-0"));
      for (int i = 0; i < labelled.size(); i++) {
        String id = labelled.get(i);
        int digit = id.startsWith("json-0") ? (label(0) + 1) % 10 : labelOf(id);
        send(producer, labels, id, new Label(id, digit, "test", 1000 + i).encode());
        labelRecords++;
      }
      // The newest label of an id counts; a tombstone takes it back.
      send(producer, labels, "json-0", new Label("json-0", label(0), "test", 5000).encode());
      send(producer, labels, "gone-0", null);
      labelRecords += 2;
    }
    Map<String, Map<Integer, Long>> ends = new TreeMap<>();
    for (String topic : List.of(labels, images, predictions)) {
      ends.put(topic, endOffsets(topic));
    }

    // What the reader makes of them: each id's newest label, each form decoded to the same input.
    Map<String, FeedbackImages.Image> read =
        reader.read().images().stream()
            .collect(Collectors.toMap(FeedbackImages.Image::id, Function.identity()));
    assertThat(read.keySet()).containsExactlyInAnyOrderElementsOf(found);
    assertThat(read.get("json-0").digit()).as("the newest label").isEqualTo(label(0));
    assertThat(read.get("json-0").pixels()).isEqualTo(DigitImages.fromPixels(pixels(0)));
    assertThat(read.get("raw-0").pixels()).isEqualTo(DigitImages.fromPixels(pixels(10)));
    assertThat(read.get("http-0").pixels()).isEqualTo(DigitImages.fromPixels(pixels(20)));
    assertThat(read.get("png-0").pixels()).isEqualTo(DigitImages.fromEncoded(png(30), 1 << 20));
    assertThat(read.get("http-3").digit()).isEqualTo(label(23));

    String runId = "feedback-" + Long.toString(System.nanoTime(), 36);
    TrainerServiceTest.send(
        runId,
        "{\"runId\":\""
            + runId
            + "\",\"epochs\":2,\"batchSize\":64,\"feedback\":{\"share\":"
            + SHARE
            + "}}");
    await().atMost(Duration.ofMinutes(3)).until(() -> ended(runId));
    List<TrainingEvent> events = events(runId);
    assertThat(events)
        .extracting(TrainingEvent::type)
        .containsExactly(
            TrainingEvent.Type.QUEUED,
            TrainingEvent.Type.STARTED,
            TrainingEvent.Type.EPOCH,
            TrainingEvent.Type.EPOCH,
            TrainingEvent.Type.COMPLETED);

    long heldOut = found.stream().filter(id -> FeedbackMix.heldOut(id, 0.2)).count();
    int cap = FeedbackMix.cap(MNIST_TRAIN, SHARE);
    assertThat(found.size() - heldOut).as("more could train than the cap lets").isGreaterThan(cap);
    assertThat(heldOut).as("some are held out").isPositive();
    TrainingEvent.Started started = (TrainingEvent.Started) events.get(1);
    assertThat(started.datasetId()).isNotBlank();
    assertThat(started.message()).contains("feedbackShare=" + SHARE);
    TrainingEvent.FeedbackUsed used = started.feedback();
    assertThat(used).isNotNull();
    assertThat(used.endOffsets()).isEqualTo(ends);
    assertThat(used)
        .extracting(
            TrainingEvent.FeedbackUsed::share,
            TrainingEvent.FeedbackUsed::heldOutShare,
            TrainingEvent.FeedbackUsed::labels,
            TrainingEvent.FeedbackUsed::labelled,
            TrainingEvent.FeedbackUsed::found,
            TrainingEvent.FeedbackUsed::missing,
            TrainingEvent.FeedbackUsed::undecodable,
            TrainingEvent.FeedbackUsed::heldOut,
            TrainingEvent.FeedbackUsed::training,
            TrainingEvent.FeedbackUsed::trainImages)
        .containsExactly(
            SHARE,
            0.2,
            labelRecords,
            found.size() + 3, // nopix-0, bad-0, unknown-0; gone-0 was taken back
            found.size(),
            2, // nopix-0, unknown-0
            1, // bad-0
            (int) heldOut,
            cap,
            MNIST_TRAIN + cap);

    for (TrainingEvent e : events.subList(2, 4)) {
      TrainingEvent.Epoch epoch = (TrainingEvent.Epoch) e;
      assertThat(epoch.feedbackImages()).isEqualTo((int) heldOut);
      assertThat(epoch.feedbackAccuracy()).isBetween(0.0, 1.0);
    }
    assertThat(TrainerServiceTest.checkpoints())
        .filteredOn(c -> runId.equals(c.header().runId()))
        .as("each checkpoint carries its epoch's held-out figures")
        .extracting(c -> c.header().feedbackAccuracy(), c -> c.header().feedbackImages())
        .containsExactlyInAnyOrderElementsOf(
            events.subList(2, 4).stream()
                .map(e -> (TrainingEvent.Epoch) e)
                .map(e -> tuple(e.feedbackAccuracy(), e.feedbackImages()))
                .toList());
    TrainingEvent.Completed completed = (TrainingEvent.Completed) events.get(4);
    assertThat(completed.feedbackImages()).isEqualTo((int) heldOut);
    assertThat(completed.feedbackAccuracy())
        .isEqualTo(((TrainingEvent.Epoch) events.get(3)).feedbackAccuracy());
  }

  @Test
  void badFeedbackValuesEachYieldAFailedEventWithTheReason() throws Exception {
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("{\"share\": 0}", "'feedback.share' must be above 0 and below 1");
    expected.put("{\"share\": 1.5}", "'feedback.share' must be above 0 and below 1");
    expected.put("{\"share\": \"0.2\"}", "'feedback.share' must be a number between 0 and 1");
    expected.put("{}", "'feedback' needs 'share'");
    expected.put("true", "'feedback' must be an object like {\"share\": 0.2}");
    Map<String, String> runIds = new LinkedHashMap<>();
    String tag = Long.toString(System.nanoTime(), 36);
    int n = 0;
    for (String feedback : expected.keySet()) {
      String runId = "bad-feedback-" + tag + "-" + n++;
      runIds.put(feedback, runId);
      TrainerServiceTest.send(runId, "{\"runId\":\"" + runId + "\",\"feedback\":" + feedback + "}");
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              for (var e : expected.entrySet()) {
                List<TrainingEvent> run = events(runIds.get(e.getKey()));
                assertThat(run).as(e.getKey()).hasSize(1);
                assertThat(run.get(0)).isInstanceOf(TrainingEvent.Failed.class);
                assertThat(((TrainingEvent.Failed) run.get(0)).message())
                    .as(e.getKey())
                    .contains(e.getValue());
              }
            });
  }

  private static boolean ended(String runId) {
    return events(runId).stream().anyMatch(e -> e.type().ends());
  }

  private static List<TrainingEvent> events(String runId) {
    return TrainerServiceTest.events().stream().filter(e -> runId.equals(e.runId())).toList();
  }

  private static void send(
      KafkaProducer<String, byte[]> producer, String topic, String key, byte[] value)
      throws Exception {
    producer.send(new ProducerRecord<>(topic, key, value)).get();
  }

  private static Map<Integer, Long> endOffsets(String topic) {
    try (KafkaConsumer<String, byte[]> consumer =
        KafkaClients.reader(KafkaConnection.to(SharedKafka.bootstrapServers()))) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      Map<Integer, Long> out = new TreeMap<>();
      consumer.endOffsets(partitions).forEach((tp, offset) -> out.put(tp.partition(), offset));
      return out;
    }
  }

  /** The true digit of the image planted for {@code id} (the n-th image planted). */
  private static int labelOf(String id) {
    int i = Integer.parseInt(id.substring(id.indexOf('-') + 1));
    int base =
        switch (id.substring(0, id.indexOf('-'))) {
          case "json" -> 0;
          case "raw" -> 10;
          case "http" -> 20;
          case "png" -> 30;
          default -> 40;
        };
    return label(base + i);
  }

  private static int label(int image) {
    return mnist.labels()[image];
  }

  private static int[] pixels(int image) {
    int[] p = new int[MnistSet.IMAGE_BYTES];
    for (int k = 0; k < p.length; k++) {
      p[k] = mnist.pixel(image, k);
    }
    return p;
  }

  private static byte[] bytes(int image) {
    byte[] b = new byte[MnistSet.IMAGE_BYTES];
    for (int k = 0; k < b.length; k++) {
      b[k] = (byte) mnist.pixel(image, k);
    }
    return b;
  }

  /** The image as a photographed digit: dark on white, three times its size. */
  private static byte[] png(int image) throws Exception {
    BufferedImage canvas = new BufferedImage(84, 84, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 84; y++) {
      for (int x = 0; x < 84; x++) {
        canvas.getRaster().setSample(x, y, 0, 255 - mnist.pixel(image, (y / 3) * 28 + x / 3));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(canvas, "png", out);
    return out.toByteArray();
  }

  /** A prediction as inference writes it for an HTTP-scored image: with its pixels, or without. */
  private static byte[] prediction(String id, int[] pixels) {
    StringBuilder json =
        new StringBuilder("{\"id\":\"")
            .append(id)
            .append("\",\"digit\":3,\"confidence\":0.9,\"probabilities\":[")
            .append("0.01,0.01,0.01,0.9,0.01,0.01,0.01,0.01,0.02,0.01],\"modelVersion\":1");
    if (pixels != null) {
      json.append(",\"pixels\":[");
      for (int k = 0; k < pixels.length; k++) {
        json.append(k == 0 ? "" : ",").append(pixels[k]);
      }
      json.append(']');
    }
    return json.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }
}
