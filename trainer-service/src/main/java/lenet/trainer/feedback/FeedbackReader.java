package lenet.trainer.feedback;

import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import lenet.contract.image.DigitImages;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Json;
import lenet.contract.wire.Label;
import lenet.contract.wire.WireFormatException;
import lenet.support.kafka.KafkaConnection;
import lenet.support.kafka.TopicReader;
import lenet.trainer.TrainerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * Reads the labelled feedback for a run from Kafka, with assigned partitions and no consumer group:
 * {@code digits.labels} to its end offsets (each id's newest label; a tombstone removes it), then
 * the images of those ids on {@code digits.images} (JSON pixels or PNG/JPEG, or the raw u8 form)
 * and on {@code digits.predictions} (an HTTP-scored image's prediction carries its {@code pixels};
 * the others are skipped unread), each from its earliest retained offset to its end offsets as the
 * reading starts. Images are brought to the network's input as inference scores them ({@link
 * DigitImages}). Only labelled ids are kept, one image each: the first in the images topic, else in
 * the predictions topic (lowest partition, then offset), so the same offsets give the same images.
 * An image past a topic's retention is gone: its label counts as missing.
 */
@ApplicationScoped
public class FeedbackReader {

  private static final Logger LOG = Logger.getLogger(FeedbackReader.class);

  /** A prediction without this field carries no image: skipped without parsing. */
  private static final byte[] PIXELS_FIELD = "\"pixels\"".getBytes(StandardCharsets.US_ASCII);

  private final TopicReader<String> reader;
  private final Topics topics;
  private final long maxImagePixels;

  FeedbackReader(KafkaConnection kafka, Config config, TrainerConfig trainer) {
    this.reader = TopicReader.of(kafka).within(trainer.feedbackReadTimeout());
    this.topics = Topics.from(config);
    this.maxImagePixels = trainer.feedbackMaxImagePixels();
  }

  /** Reads the labels, then their images, to the topics' end offsets as each read starts. */
  public FeedbackImages read() {
    long t0 = System.nanoTime();
    Collector found = new Collector();
    Map<String, Map<Integer, Long>> ends = new LinkedHashMap<>();
    String labels = topics.name(Topic.DIGITS_LABELS);
    ends.put(labels, reader.toEnd(labels, found::label));
    String images = topics.name(Topic.DIGITS_IMAGES);
    ends.put(images, reader.toEnd(images, found::image));
    String predictions = topics.name(Topic.DIGITS_PREDICTIONS);
    ends.put(predictions, reader.toEnd(predictions, found::prediction));
    FeedbackImages read = found.result(ends);
    LOG.infof(
        "Read feedback in %.1f s: %d label records, %d labelled ids, %d with an image, %d missing,"
            + " %d undecodable, %d bad label records skipped",
        (System.nanoTime() - t0) / 1e9,
        read.labels(),
        read.labelled(),
        read.images().size(),
        read.missing(),
        read.undecodable(),
        found.badLabels);
    return read;
  }

  /** Where an image was read: the images topic first, then lowest partition, then offset. */
  private record Position(int topicRank, int partition, long offset) {
    static final Comparator<Position> ORDER =
        Comparator.comparingInt(Position::topicRank)
            .thenComparingInt(Position::partition)
            .thenComparingLong(Position::offset);
  }

  private record Found(Position at, float[] pixels) {}

  /** What one read has seen so far: labels by id, then one image per labelled id. */
  private final class Collector {
    final Map<String, Label> labels = new HashMap<>();
    final Map<String, Found> images = new HashMap<>();
    final Set<String> undecodable = new HashSet<>();
    int labelRecords;
    int badLabels;

    void label(ConsumerRecord<String, byte[]> r) {
      labelRecords++;
      if (r.value() == null) {
        if (r.key() != null) {
          labels.remove(r.key());
        }
        return;
      }
      try {
        Label label = Label.decode(r.value());
        // The key is the id the topic is compacted by; a record without one names it in its value.
        labels.put(r.key() != null ? r.key() : label.id(), label);
      } catch (WireFormatException e) {
        badLabels++;
        LOG.debugf("Label at %s-%d@%d skipped: %s", r.topic(), r.partition(), r.offset(), e);
      }
    }

    void image(ConsumerRecord<String, byte[]> r) {
      if (r.value() == null) {
        return;
      }
      boolean raw = isRaw(r);
      if (raw && !labels.containsKey(r.key())) {
        return;
      }
      ImageEvent event;
      try {
        // Bounded by what the topic accepted (its max.message.bytes), not by inference's own limit.
        event =
            raw
                ? ImageEvent.ofRaw(r.key(), r.value())
                : ImageEvent.decode(r.value(), r.key(), r.value().length);
      } catch (WireFormatException e) {
        refused(r.key());
        return;
      }
      offer(event, new Position(0, r.partition(), r.offset()));
    }

    void prediction(ConsumerRecord<String, byte[]> r) {
      // Keyed by the event's id: a prediction of an unlabelled image is not even parsed.
      if (r.value() == null
          || (r.key() != null && !labels.containsKey(r.key()))
          || !contains(r.value(), PIXELS_FIELD)) {
        return;
      }
      ImageEvent event;
      try {
        var node = Json.readObject(r.value(), ImageEvent.DEFAULT_MAX_BYTES, "prediction");
        String id = Json.optString(node, "id");
        event =
            ImageEvent.ofPixels(
                id != null ? id : r.key(), ImageEvent.readPixels(node.get("pixels")));
      } catch (WireFormatException e) {
        refused(r.key());
        return;
      }
      offer(event, new Position(1, r.partition(), r.offset()));
    }

    private void offer(ImageEvent event, Position at) {
      String id = event.id();
      if (!labels.containsKey(id)) {
        return;
      }
      Found have = images.get(id);
      if (have != null && Position.ORDER.compare(have.at(), at) <= 0) {
        return;
      }
      try {
        images.put(id, new Found(at, DigitImages.toInput(event, maxImagePixels)));
        undecodable.remove(id);
      } catch (WireFormatException e) {
        refused(id);
      }
    }

    private void refused(String id) {
      if (id != null && labels.containsKey(id) && !images.containsKey(id)) {
        undecodable.add(id);
      }
    }

    FeedbackImages result(Map<String, Map<Integer, Long>> ends) {
      List<FeedbackImages.Image> out = new ArrayList<>(images.size());
      images.forEach(
          (id, found) -> {
            Label label = labels.get(id);
            out.add(new FeedbackImages.Image(id, label.digit(), label.time(), found.pixels()));
          });
      return new FeedbackImages(out, ends, labelRecords, labels.size(), undecodable.size());
    }
  }

  private static boolean isRaw(ConsumerRecord<String, byte[]> r) {
    Header type = r.headers().lastHeader(ImageEvent.CONTENT_TYPE_HEADER);
    return type != null
        && type.value() != null
        && ImageEvent.RAW_CONTENT_TYPE.equals(
            new String(type.value(), StandardCharsets.UTF_8).trim());
  }

  private static boolean contains(byte[] value, byte[] part) {
    outer:
    for (int i = 0; i + part.length <= value.length; i++) {
      for (int j = 0; j < part.length; j++) {
        if (value[i + j] != part[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
