package lenet.contract.wire;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import java.util.regex.Pattern;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * The true digit of an image that was scored, on {@code digits.labels} (key = {@link #id}): {@code
 * {"id", "digit", "source", "time"}}. Sent by people (HTTP {@code POST /api/feedback} with {@code
 * {"id", "digit"}}, the inference page) or any producer; the newest label of an id is the one that
 * counts (the topic is compacted).
 *
 * @param id the image event's id (its prediction's id)
 * @param digit 0 to 9
 * @param source who said so: {@code http}, {@code page}, or a producer's own word (letters, digits,
 *     '-', '_', '.', up to 64)
 * @param time when it was said, epoch milliseconds
 */
public record Label(String id, int digit, String source, long time) {

  /** The largest label record read. */
  public static final int MAX_BYTES = 1024;

  /** An id's longest form, as image events allow it. */
  public static final int MAX_ID_CHARS = 256;

  private static final Pattern SOURCE = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  public Label {
    if (id == null || id.isBlank() || id.length() > MAX_ID_CHARS) {
      throw new WireFormatException(
          Reason.INVALID_VALUE,
          "'id' must be the image's id, 1 to " + MAX_ID_CHARS + " characters");
    }
    if (digit < 0 || digit > 9) {
      throw new WireFormatException(
          Reason.VALUE_OUT_OF_RANGE, "'digit' must be 0 to 9, not " + digit);
    }
    if (source == null || !SOURCE.matcher(source).matches()) {
      throw new WireFormatException(
          Reason.INVALID_VALUE, "'source' must be 1 to 64 letters, digits, '.', '_' or '-'");
    }
    if (time < 0) {
      throw new WireFormatException(Reason.VALUE_OUT_OF_RANGE, "'time' must not be negative");
    }
  }

  /**
   * A label as {@code POST /api/feedback} takes it: exactly {@code {"id", "digit"}}, from {@code
   * source} now.
   *
   * @throws WireFormatException naming what is wrong
   */
  public static Label ofFeedback(byte[] json, String source, long now) {
    ObjectNode node = Json.readObject(json, MAX_BYTES, "feedback");
    Json.onlyFields(node, Set.of("id", "digit"), "feedback");
    return new Label(required(node, "id"), digit(node), source, now);
  }

  /** A label record of {@code digits.labels}. */
  public static Label decode(byte[] json) {
    ObjectNode node = Json.readObject(json, MAX_BYTES, "label");
    Json.onlyFields(node, Set.of("id", "digit", "source", "time"), "label");
    Long time = Json.optLong(node, "time");
    String source = Json.optString(node, "source");
    return new Label(
        required(node, "id"),
        digit(node),
        source == null ? "kafka" : source,
        time == null ? 0 : time);
  }

  public byte[] encode() {
    return Json.write(this);
  }

  private static String required(ObjectNode node, String field) {
    String v = Json.optString(node, field);
    if (v == null) {
      throw new WireFormatException(Reason.MISSING_FIELD, "'" + field + "' is missing");
    }
    return v;
  }

  private static int digit(ObjectNode node) {
    Integer d = Json.optInt(node, "digit");
    if (d == null) {
      throw new WireFormatException(Reason.MISSING_FIELD, "'digit' is missing");
    }
    return d;
  }
}
