package lenet.contract.wire;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Set;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * The one JSON mapper of the wire formats and the strict field readers they share. Every reader
 * names the field and what was wrong with it, so a dead letter or a 400 says exactly what to fix.
 */
public final class Json {

  public static final ObjectMapper MAPPER =
      new ObjectMapper()
          .setSerializationInclusion(JsonInclude.Include.NON_NULL)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  static {
    MAPPER
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder().maxStringLength(64 << 20).build());
  }

  private Json() {}

  /**
   * Serializes a wire record; they are plain records, so this cannot fail short of a programming
   * error.
   */
  public static byte[] write(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses a JSON object no larger than {@code maxBytes}, naming what is wrong otherwise. */
  public static ObjectNode readObject(byte[] bytes, int maxBytes, String what) {
    if (bytes == null || bytes.length == 0) {
      throw new WireFormatException(Reason.EMPTY, what + " is empty");
    }
    if (bytes.length > maxBytes) {
      throw new WireFormatException(
          Reason.TOO_LARGE, what + " is " + bytes.length + " bytes, the limit is " + maxBytes);
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw new WireFormatException(
          Reason.MALFORMED_JSON, what + " is not valid JSON: " + firstLine(e.getMessage()), e);
    }
    if (node == null || node.isMissingNode()) {
      throw new WireFormatException(Reason.EMPTY, what + " holds no JSON value");
    }
    if (!node.isObject()) {
      throw new WireFormatException(
          Reason.WRONG_TYPE, what + " must be a JSON object, got " + kind(node));
    }
    return (ObjectNode) node;
  }

  /** Refuses fields other than {@code allowed}: a typo must not silently fall back to a default. */
  public static void onlyFields(ObjectNode node, Set<String> allowed, String what) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!allowed.contains(name)) {
        throw new WireFormatException(
            Reason.UNKNOWN_FIELD,
            what + " has unknown field '" + name + "'; allowed: " + String.join(", ", allowed));
      }
    }
  }

  public static String optString(ObjectNode node, String field) {
    JsonNode v = present(node, field);
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      throw wrongType(field, "a string", v);
    }
    return v.textValue();
  }

  public static Integer optInt(ObjectNode node, String field) {
    JsonNode v = present(node, field);
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw wrongType(field, "an integer", v);
    }
    return v.intValue();
  }

  public static Long optLong(ObjectNode node, String field) {
    JsonNode v = present(node, field);
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw wrongType(field, "an integer", v);
    }
    return v.longValue();
  }

  public static Double optDouble(ObjectNode node, String field) {
    JsonNode v = present(node, field);
    if (v == null) {
      return null;
    }
    if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
      throw wrongType(field, "a finite number", v);
    }
    return v.doubleValue();
  }

  /** A field that is absent or JSON null reads as absent. */
  private static JsonNode present(ObjectNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v;
  }

  static WireFormatException wrongType(String field, String expected, JsonNode actual) {
    return new WireFormatException(
        Reason.WRONG_TYPE, "'" + field + "' must be " + expected + ", got " + kind(actual));
  }

  static String kind(JsonNode node) {
    String text = node.toString();
    String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
    return node.getNodeType().name().toLowerCase() + " " + shown;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
