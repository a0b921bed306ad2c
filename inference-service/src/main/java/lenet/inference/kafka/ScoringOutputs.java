package lenet.inference.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.jboss.logging.Logger;

/**
 * The records scoring writes: a prediction keyed by the event id, or a dead letter that is the
 * original record byte for byte (key, value, headers) with the reason and origin added in headers.
 * Built here and sent by the worker that scored the batch, inside its transaction.
 *
 * <p>Every record built here fits its topic ({@link RecordLimits}): a record the producer or the
 * broker refused would abort its batch's transaction each time the batch is read, and stop its
 * partition for good. A dead letter that would not fit sheds what it copied of the original, in
 * this order, only as far as needed: the original's headers, largest first (a large header is
 * rarely the one worth keeping; small ones such as a {@code traceparent} stay), then the value,
 * then the key. Headers say what went ({@link #HEADERS_DROPPED_HEADER}, {@link
 * #VALUE_DROPPED_HEADER}, {@link #KEY_DROPPED_HEADER}). A prediction that would not fit (an id of
 * megabytes) is answered by a {@code TOO_LARGE} dead letter instead. An answer the broker refuses
 * all the same (a topic set up with a smaller limit than the topic table's) is replaced by a {@link
 * #refused minimal} dead letter.
 */
public final class ScoringOutputs {

  private static final Logger LOG = Logger.getLogger(ScoringOutputs.class);

  /** Why a record was dead-lettered: the reason name, a colon, and what exactly is wrong. */
  public static final String REASON_HEADER = "dead-letter-reason";

  public static final String TOPIC_HEADER = "dead-letter-topic";
  public static final String PARTITION_HEADER = "dead-letter-partition";
  public static final String OFFSET_HEADER = "dead-letter-offset";

  /** How many of the original's headers were left out (the largest), so that the letter fits. */
  public static final String HEADERS_DROPPED_HEADER = "dead-letter-headers-dropped";

  /** The size in bytes of the original value, when it was left out so that the letter fits. */
  public static final String VALUE_DROPPED_HEADER = "dead-letter-value-dropped";

  /** The size in bytes of the original key, when it was left out so that the letter fits. */
  public static final String KEY_DROPPED_HEADER = "dead-letter-key-dropped";

  /**
   * The reason of a minimal dead letter: the broker refused the event's answer (its prediction or
   * its dead letter), so only the reason and the origin were written.
   */
  public static final String REFUSED = "REFUSED";

  /** A reason is for people: longer ones (an unknown field's name may be megabytes) are cut. */
  static final int MAX_REASON_CHARS = 1000;

  /** A minimal dead letter keeps the key (the event's id) up to this size. */
  static final int MINIMAL_KEY_BYTES = 1024;

  private final String predictionsTopic;
  private final String deadLetterTopic;
  private final int predictionLimit;
  private final int deadLetterLimit;
  private final MeterRegistry registry;

  public ScoringOutputs(Topics topics, MeterRegistry registry) {
    this(
        topics,
        registry,
        RecordLimits.limit(Topic.DIGITS_PREDICTIONS),
        RecordLimits.limit(Topic.DIGITS_IMAGES_DLQ));
  }

  /** With the largest framed sizes that predictions and dead letters may have. */
  ScoringOutputs(Topics topics, MeterRegistry registry, int predictionLimit, int deadLetterLimit) {
    this.predictionsTopic = topics.name(Topic.DIGITS_PREDICTIONS);
    this.deadLetterTopic = topics.name(Topic.DIGITS_IMAGES_DLQ);
    this.predictionLimit = predictionLimit;
    this.deadLetterLimit = deadLetterLimit;
    this.registry = registry;
  }

  public String predictionsTopic() {
    return predictionsTopic;
  }

  public String deadLetterTopic() {
    return deadLetterTopic;
  }

  public ProducerRecord<byte[], byte[]> prediction(Prediction prediction) {
    return prediction(prediction, List.of());
  }

  /** {@code prediction} with {@code headers} (its trace context). */
  public ProducerRecord<byte[], byte[]> prediction(Prediction prediction, List<Header> headers) {
    return new ProducerRecord<>(
        predictionsTopic,
        null,
        prediction.id().getBytes(StandardCharsets.UTF_8),
        prediction.encode(),
        headers.isEmpty() ? null : headers);
  }

  /** Why {@code prediction} cannot be written, if it would not fit its topic. */
  public Optional<WireFormatException> unfit(ProducerRecord<byte[], byte[]> prediction) {
    int size =
        RecordLimits.framedSize(
            prediction.key(), prediction.value(), prediction.headers().toArray());
    if (size <= predictionLimit) {
      return Optional.empty();
    }
    return Optional.of(
        new WireFormatException(
            WireFormatException.Reason.TOO_LARGE,
            "its prediction would be "
                + size
                + " bytes (an id of "
                + prediction.key().length
                + " bytes), over the "
                + predictionLimit
                + " that '"
                + predictionsTopic
                + "' takes"));
  }

  /**
   * {@code original} unchanged, with the reason and where it came from added as headers; what would
   * not fit the dead-letter topic left out (see the class comment).
   */
  public ProducerRecord<byte[], byte[]> deadLetter(
      ConsumerRecord<byte[], byte[]> original, WireFormatException why) {
    return deadLetter(original, why, List.of());
  }

  /**
   * As {@link #deadLetter(ConsumerRecord, WireFormatException)}, with {@code own} headers added.
   */
  public ProducerRecord<byte[], byte[]> deadLetter(
      ConsumerRecord<byte[], byte[]> original, WireFormatException why, List<Header> own) {
    Header[] theirs = original.headers().toArray();
    Shrink shrink = new Shrink(original, theirs, reason(why.describe()), own);
    byte[] key = original.key();
    byte[] value = original.value();
    int dropped = shrink.fewestDropped(key, value);
    if (dropped < 0 && value != null && value.length > 0) {
      value = null;
      dropped = shrink.fewestDropped(key, null);
    }
    if (dropped < 0 && key != null) {
      key = null;
      dropped = shrink.fewestDropped(null, null);
    }
    if (dropped < 0) {
      throw new IllegalStateException(
          "a dead letter with neither key, value nor the original's headers exceeds "
              + deadLetterLimit
              + " bytes");
    }
    ProducerRecord<byte[], byte[]> letter =
        new ProducerRecord<>(
            deadLetterTopic, null, key, value, List.of(shrink.headers(key, value, dropped)));
    if (key != original.key() || value != original.value() || dropped > 0) {
      shrunk(
          original,
          key != original.key() ? "key" : value != original.value() ? "value" : "headers",
          what(original, theirs, shrink, key, value, dropped));
    }
    return letter;
  }

  /**
   * The answer of {@code original} when the broker refused {@code answer} (its prediction or its
   * dead letter) for a reason of that record ({@code refusal}): only the reason, the origin, and
   * the key when it is short.
   */
  ProducerRecord<byte[], byte[]> refused(
      ConsumerRecord<byte[], byte[]> original,
      ProducerRecord<byte[], byte[]> answer,
      Throwable refusal) {
    String reason =
        reason(
            REFUSED
                + ": '"
                + answer.topic()
                + "' refused "
                + (answer.topic().equals(deadLetterTopic)
                    ? "the dead letter of this event"
                    : "the prediction of this event")
                + " ("
                + refusal
                + "); this minimal dead letter stands for it");
    Header[] theirs = original.headers().toArray();
    Shrink shrink = new Shrink(original, theirs, reason, List.of());
    byte[] key =
        original.key() != null && original.key().length <= MINIMAL_KEY_BYTES
            ? original.key()
            : null;
    Header[] headers = shrink.headers(key, null, theirs.length);
    counter("inference.dead.letters", "reason", REFUSED, DEAD_LETTERS).increment();
    shrunk(original, "minimal", reason);
    return new ProducerRecord<>(deadLetterTopic, null, key, null, List.of(headers));
  }

  /** The dead letter's headers and their sizes, for finding the fewest to leave out. */
  private final class Shrink {
    private final ConsumerRecord<byte[], byte[]> original;
    private final Header[] theirs;
    private final String reason;
    private final List<Header> own;

    /** {@code rank[i]}: the place of {@code theirs[i]} by size, 0 the largest. */
    private final int[] rank;

    Shrink(
        ConsumerRecord<byte[], byte[]> original, Header[] theirs, String reason, List<Header> own) {
      this.original = original;
      this.theirs = theirs;
      this.reason = reason;
      this.own = own;
      Integer[] largestFirst = IntStream.range(0, theirs.length).boxed().toArray(Integer[]::new);
      Arrays.sort(largestFirst, Comparator.comparingLong(i -> -size(theirs[i])));
      this.rank = new int[theirs.length];
      for (int place = 0; place < largestFirst.length; place++) {
        rank[largestFirst[place]] = place;
      }
    }

    /**
     * The fewest of the original's headers (the largest) to leave out so that a letter with {@code
     * key} and {@code value} fits; -1 when it does not fit without any of them. A binary search:
     * each step measures the whole record, as the producer will.
     */
    int fewestDropped(byte[] key, byte[] value) {
      if (fits(key, value, 0)) {
        return 0;
      }
      if (!fits(key, value, theirs.length)) {
        return -1;
      }
      int lo = 0; // does not fit
      int hi = theirs.length; // fits
      while (hi - lo > 1) {
        int mid = (lo + hi) >>> 1;
        if (fits(key, value, mid)) {
          hi = mid;
        } else {
          lo = mid;
        }
      }
      return hi;
    }

    private boolean fits(byte[] key, byte[] value, int dropped) {
      return RecordLimits.framedSize(key, value, headers(key, value, dropped)) <= deadLetterLimit;
    }

    /** The original's headers less the {@code dropped} largest, in order, then the letter's own. */
    Header[] headers(byte[] key, byte[] value, int dropped) {
      List<Header> out = new ArrayList<>(theirs.length - dropped + 7 + own.size());
      for (int i = 0; i < theirs.length; i++) {
        if (rank[i] >= dropped) {
          out.add(theirs[i]);
        }
      }
      out.add(header(REASON_HEADER, reason));
      out.add(header(TOPIC_HEADER, original.topic()));
      out.add(header(PARTITION_HEADER, String.valueOf(original.partition())));
      out.add(header(OFFSET_HEADER, String.valueOf(original.offset())));
      out.addAll(own);
      if (dropped > 0) {
        out.add(header(HEADERS_DROPPED_HEADER, String.valueOf(dropped)));
      }
      if (value == null && original.value() != null) {
        out.add(header(VALUE_DROPPED_HEADER, String.valueOf(original.value().length)));
      }
      if (key == null && original.key() != null) {
        out.add(header(KEY_DROPPED_HEADER, String.valueOf(original.key().length)));
      }
      return out.toArray(Header[]::new);
    }

    long droppedBytes(int dropped) {
      long n = 0;
      for (int i = 0; i < theirs.length; i++) {
        if (rank[i] < dropped) {
          n += size(theirs[i]);
        }
      }
      return n;
    }
  }

  private String what(
      ConsumerRecord<byte[], byte[]> original,
      Header[] theirs,
      Shrink shrink,
      byte[] key,
      byte[] value,
      int dropped) {
    List<String> parts = new ArrayList<>();
    if (dropped > 0) {
      parts.add(
          "left out "
              + dropped
              + " of its "
              + theirs.length
              + " headers ("
              + shrink.droppedBytes(dropped)
              + " bytes)");
    }
    if (value != original.value()) {
      parts.add("its value (" + original.value().length + " bytes)");
    }
    if (key != original.key()) {
      parts.add("its key (" + original.key().length + " bytes)");
    }
    return String.join(", ", parts)
        + "; the original is "
        + RecordLimits.framedSize(original.key(), original.value(), theirs)
        + " bytes framed, the limit "
        + deadLetterLimit;
  }

  private void shrunk(ConsumerRecord<byte[], byte[]> original, String dropped, String what) {
    counter("inference.dead.letters.shrunk", "dropped", dropped, SHRUNK).increment();
    LOG.warnf(
        "Dead letter of %s-%d@%d shrunk to fit '%s' (%s): %s",
        original.topic(), original.partition(), original.offset(), deadLetterTopic, dropped, what);
  }

  static final String DEAD_LETTERS = "Image events sent to the dead-letter topic, by reason";

  private static final String SHRUNK =
      "Dead letters written without part of the original so that they fit: dropped = the last"
          + " part that had to go (headers, then value, then key), or minimal (the broker refused"
          + " the event's answer: only the reason and the origin went)";

  private Counter counter(String name, String tag, String value, String description) {
    return Counter.builder(name).description(description).tag(tag, value).register(registry);
  }

  private static String reason(String text) {
    if (text.length() <= MAX_REASON_CHARS) {
      return text;
    }
    int end =
        Character.isHighSurrogate(text.charAt(MAX_REASON_CHARS - 1))
            ? MAX_REASON_CHARS - 1
            : MAX_REASON_CHARS;
    return text.substring(0, end) + "... (" + text.length() + " characters)";
  }

  private static long size(Header h) {
    return h.key().length() + (h.value() == null ? 0 : h.value().length);
  }

  private static Header header(String key, String value) {
    return new RecordHeader(key, value.getBytes(StandardCharsets.UTF_8));
  }
}
