package lenet.contract.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * An image to score, as it arrives on {@code digits.images} or in an HTTP body: an optional id and
 * exactly one image, either {@code pixels} (784 numbers 0..255, row-major 28x28, white digit on
 * black as in MNIST) or {@code png} (base64 PNG or JPEG bytes of any size, brought to MNIST form by
 * the inference service).
 *
 * <p>Exactly one of {@code pixels} and {@code encodedImage} is non-null.
 */
public record ImageEvent(String id, int[] pixels, byte[] encodedImage) {

  public static final int SIDE = 28;
  public static final int PIXELS = SIDE * SIDE;

  /**
   * Default limit of a serialized event; a 28x28 event is ~3 KB, a phone photo as PNG a few hundred
   * KB.
   */
  public static final int DEFAULT_MAX_BYTES = 2 * 1024 * 1024;

  /**
   * The binary form for producers that want speed: the value is the 784 pixels as raw bytes
   * (0..255, row-major), marked by this Kafka header {@code content-type} or HTTP {@code
   * Content-Type}; the id is the record's key (HTTP: generated).
   */
  public static final String RAW_CONTENT_TYPE = "application/x-mnist-u8";

  /** The Kafka header that names a record's form; absent: a JSON image event. */
  public static final String CONTENT_TYPE_HEADER = "content-type";

  private static final Set<String> FIELDS = Set.of("id", "pixels", "png");

  public ImageEvent {
    if ((pixels == null) == (encodedImage == null)) {
      throw new IllegalArgumentException("exactly one of pixels and encodedImage must be given");
    }
  }

  public static ImageEvent ofPixels(String id, int[] pixels) {
    checkPixels(pixels);
    return new ImageEvent(id, pixels, null);
  }

  /**
   * An event in the binary form ({@link #RAW_CONTENT_TYPE}): exactly 784 bytes.
   *
   * @throws WireFormatException EMPTY or WRONG_PIXEL_COUNT, naming the size
   */
  public static ImageEvent ofRaw(String id, byte[] raw) {
    if (raw == null || raw.length == 0) {
      throw new WireFormatException(Reason.EMPTY, "the raw image holds no bytes");
    }
    if (raw.length != PIXELS) {
      throw new WireFormatException(
          Reason.WRONG_PIXEL_COUNT,
          "a raw image ("
              + RAW_CONTENT_TYPE
              + ") is "
              + PIXELS
              + " bytes, one per pixel (28x28), got "
              + raw.length);
    }
    int[] pixels = new int[PIXELS];
    for (int i = 0; i < PIXELS; i++) {
      pixels[i] = raw[i] & 0xFF;
    }
    return new ImageEvent(id, pixels, null);
  }

  public static ImageEvent ofEncoded(String id, byte[] image) {
    return new ImageEvent(id, null, image);
  }

  /**
   * Decodes an event. The id is the event's {@code id}, else {@code key}, else a random UUID.
   *
   * @throws WireFormatException naming the problem
   */
  public static ImageEvent decode(byte[] json, String key, int maxBytes) {
    if (json != null && json.length > 0 && json.length <= maxBytes) {
      ImageEvent event = plain(json, key);
      if (event != null) {
        return event;
      }
    }
    ObjectNode node = Json.readObject(json, maxBytes, "image event");
    Json.onlyFields(node, FIELDS, "image event");
    String id = Json.optString(node, "id");
    if (id == null || id.isBlank()) {
      id = key != null && !key.isBlank() ? key : UUID.randomUUID().toString();
    }
    JsonNode pixels = node.get("pixels");
    JsonNode png = node.get("png");
    boolean hasPixels = pixels != null && !pixels.isNull();
    boolean hasPng = png != null && !png.isNull();
    if (hasPixels == hasPng) {
      throw new WireFormatException(
          hasPixels ? Reason.INVALID_VALUE : Reason.MISSING_FIELD,
          "image event must carry exactly one of 'pixels' and 'png'"
              + (hasPixels ? ", got both" : ", got neither"));
    }
    if (hasPixels) {
      return new ImageEvent(id, readPixels(pixels), null);
    }
    if (!png.isTextual()) {
      throw Json.wrongType("png", "a base64 string", png);
    }
    byte[] bytes;
    try {
      String text = png.textValue();
      // Browsers hand out data URLs; accept them and line-wrapped base64 alike.
      if (text.startsWith("data:") && text.indexOf(',') > 0) {
        text = text.substring(text.indexOf(',') + 1);
      }
      bytes = Base64.getDecoder().decode(text.replaceAll("\\s", ""));
    } catch (IllegalArgumentException e) {
      throw new WireFormatException(
          Reason.UNDECODABLE_IMAGE, "'png' is not valid base64: " + e.getMessage(), e);
    }
    if (bytes.length == 0) {
      throw new WireFormatException(Reason.UNDECODABLE_IMAGE, "'png' decodes to zero bytes");
    }
    return new ImageEvent(id, null, bytes);
  }

  public static ImageEvent decode(byte[] json, String key) {
    return decode(json, key, DEFAULT_MAX_BYTES);
  }

  /**
   * The hot path of scoring: a plain pixel event, {@code {"id": "...", "pixels": [784 whole numbers
   * 0..255]}} (id optional, either order, any whitespace), read byte by byte straight into its
   * array. Jackson, even streaming, spent ~13 us per event on the 784 numbers; this takes a
   * fraction of that. Anything else (a {@code png}, another or repeated field, an escape in the id,
   * a number that is not a plain integer in range, trailing bytes) returns null and the tree reader
   * decides, so every refusal keeps its exact reason and message.
   */
  static ImageEvent plain(byte[] json, String key) {
    JsonScanner in = new JsonScanner(json);
    if (!in.expect('{')) {
      return null;
    }
    String id = null;
    boolean seenId = false;
    int[] pixels = null;
    do {
      String field = in.plainString();
      if (field == null || !in.expect(':')) {
        return null;
      }
      if (field.equals("id") && !seenId) {
        seenId = true;
        if (!in.literal("null")) {
          id = in.plainString();
          if (id == null) {
            return null;
          }
        }
      } else if (field.equals("pixels") && pixels == null) {
        pixels = in.pixelArray();
        if (pixels == null) {
          return null;
        }
      } else {
        return null;
      }
    } while (in.expect(','));
    if (!in.expect('}') || !in.atEnd() || pixels == null) {
      return null;
    }
    if (id == null || id.isBlank()) {
      id = key != null && !key.isBlank() ? key : UUID.randomUUID().toString();
    }
    return new ImageEvent(id, pixels, null);
  }

  public byte[] encode() {
    Map<String, Object> out = new LinkedHashMap<>();
    if (id != null) {
      out.put("id", id);
    }
    if (pixels != null) {
      out.put("pixels", pixels);
    } else {
      out.put("png", Base64.getEncoder().encodeToString(encodedImage));
    }
    return Json.write(out);
  }

  /**
   * Reads a JSON array of exactly 784 integers in 0..255 (JSON numbers like 12.0 are accepted as
   * 12).
   */
  public static int[] readPixels(JsonNode array) {
    if (!array.isArray()) {
      throw Json.wrongType("pixels", "an array of " + PIXELS + " numbers", array);
    }
    if (array.size() != PIXELS) {
      throw new WireFormatException(
          Reason.WRONG_PIXEL_COUNT,
          "'pixels' must hold " + PIXELS + " values (28x28), got " + array.size());
    }
    int[] out = new int[PIXELS];
    for (int i = 0; i < PIXELS; i++) {
      JsonNode v = array.get(i);
      if (!v.isNumber()) {
        throw Json.wrongType("pixels[" + i + "]", "a number", v);
      }
      double d = v.doubleValue();
      if (!isPixelValue(d)) {
        throw new WireFormatException(
            Reason.VALUE_OUT_OF_RANGE,
            "'pixels[" + i + "]' is " + v.asText() + "; pixels are whole numbers in 0..255");
      }
      out[i] = (int) d;
    }
    return out;
  }

  /** Whether {@code d} is a pixel value: a whole number in 0..255 (12.0 counts as 12). */
  public static boolean isPixelValue(double d) {
    return d >= 0 && d <= 255 && d == Math.rint(d);
  }

  private static void checkPixels(int[] pixels) {
    if (pixels.length != PIXELS) {
      throw new WireFormatException(
          Reason.WRONG_PIXEL_COUNT,
          "pixels must hold " + PIXELS + " values (28x28), got " + pixels.length);
    }
    for (int i = 0; i < pixels.length; i++) {
      if (pixels[i] < 0 || pixels[i] > 255) {
        throw new WireFormatException(
            Reason.VALUE_OUT_OF_RANGE, "pixels[" + i + "] is " + pixels[i] + ", not in 0..255");
      }
    }
  }

  // Records compare arrays by identity; wire records are compared by content in tests and logs.
  @Override
  public boolean equals(Object o) {
    return o instanceof ImageEvent e
        && java.util.Objects.equals(id, e.id)
        && java.util.Arrays.equals(pixels, e.pixels)
        && java.util.Arrays.equals(encodedImage, e.encodedImage);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(
        id, java.util.Arrays.hashCode(pixels), java.util.Arrays.hashCode(encodedImage));
  }

  @Override
  public String toString() {
    return "ImageEvent[id="
        + id
        + (pixels != null ? ", pixels" : ", encoded " + encodedImage.length + " bytes")
        + "]";
  }
}
