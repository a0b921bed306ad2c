package lenet.contract.wire;

import java.nio.charset.StandardCharsets;

/**
 * A forward-only reader of JSON bytes for the two hot paths that carry hundreds of numbers per
 * message: pixel events ({@link ImageEvent}) and Open Inference Protocol batches. Jackson, even
 * streaming, spends tens of nanoseconds per number token; this reads them straight from the bytes.
 *
 * <p>It never throws on bad input: every method answers false, null or -1 for anything it does not
 * take, and its caller falls back to Jackson's tree reader, which accepts what is valid and names
 * what is not. So the scanner may refuse valid JSON (an escape in a string it must return), but it
 * never accepts invalid JSON nor reads a value differently from Jackson: numbers are the correctly
 * rounded doubles of their text, as Jackson's are.
 */
public final class JsonScanner {

  /** Arrays and objects nested deeper than this are left to the tree reader. */
  private static final int MAX_DEPTH = 32;

  /** Jackson's default limit on a number's characters. */
  private static final int MAX_NUMBER_LENGTH = 1000;

  /** Integers below 2^53 are exact as doubles. */
  private static final long EXACT_LIMIT = 1L << 53;

  /** Exact powers of ten as doubles (10^22 is the largest a double holds exactly). */
  private static final double[] POWERS_OF_TEN = new double[23];

  static {
    double p = 1;
    for (int k = 0; k < POWERS_OF_TEN.length; k++) {
      POWERS_OF_TEN[k] = p;
      p *= 10;
    }
  }

  /** Receives the numbers of an array in document order; false stops the reading. */
  @FunctionalInterface
  public interface NumberSink {
    boolean accept(double value);

    /**
     * A small non-negative whole number written compactly (at most 9 digits, no sign, fraction or
     * exponent): the common case, which a sink may take without going through a double.
     */
    default boolean acceptWhole(int value) {
      return accept(value);
    }
  }

  private final byte[] b;
  private int i;

  public JsonScanner(byte[] bytes) {
    this.b = bytes;
  }

  private void skipSpace() {
    i = skipSpace(b, i);
  }

  /** The first index from {@code p} on that is not JSON whitespace. */
  private static int skipSpace(byte[] b, int p) {
    while (p < b.length && isSpace(b[p])) {
      p++;
    }
    return p;
  }

  /** Consumes {@code c} (after whitespace) when it comes next. */
  public boolean expect(char c) {
    skipSpace();
    if (i < b.length && b[i] == c) {
      i++;
      return true;
    }
    return false;
  }

  /** Whether the next character (after whitespace) is {@code c}, without consuming it. */
  public boolean peek(char c) {
    skipSpace();
    return i < b.length && b[i] == c;
  }

  /** Only whitespace is left. */
  public boolean atEnd() {
    skipSpace();
    return i == b.length;
  }

  /** Consumes {@code word} ({@code null}, {@code true}, {@code false}) when it comes next. */
  public boolean literal(String word) {
    skipSpace();
    int n = word.length();
    if (i + n > b.length) {
      return false;
    }
    for (int k = 0; k < n; k++) {
      if (b[i + k] != word.charAt(k)) {
        return false;
      }
    }
    i += n;
    return true;
  }

  /**
   * A string of printable ASCII without escapes; null otherwise (anything else, UTF-8 included, is
   * left to Jackson, which also refuses malformed UTF-8).
   */
  public String plainString() {
    if (!expect('"')) {
      return null;
    }
    int start = i;
    while (i < b.length && b[i] != '"') {
      if (b[i] == '\\' || b[i] < 0x20) { // bytes >= 0x80 are negative
        return null;
      }
      i++;
    }
    if (i == b.length) {
      return null;
    }
    return new String(b, start, i++ - start, StandardCharsets.US_ASCII);
  }

  /** Exactly 784 integers 0..255 written plainly (no sign, fraction, exponent or leading 0). */
  public int[] pixelArray() {
    if (!expect('[')) {
      return null;
    }
    int[] out = new int[ImageEvent.PIXELS];
    byte[] b = this.b;
    int p = i;
    int end = b.length;
    for (int n = 0; ; ) {
      p = skipSpace(b, p);
      if (p + 1 < end && b[p] == '0' && b[p + 1] == ',' && n < ImageEvent.PIXELS - 1) {
        n++; // a background pixel, the commonest value: already 0 in out
        p += 2;
        continue;
      }
      int start = p;
      int v = 0;
      while (p < end && isDigit(b[p])) {
        v = v * 10 + (b[p++] - '0');
        if (p - start > 3) {
          return null;
        }
      }
      int digits = p - start;
      if (digits == 0 || v > 255 || (digits > 1 && b[start] == '0')) {
        return null;
      }
      out[n++] = v;
      p = skipSpace(b, p);
      if (p == end) {
        return null;
      }
      byte c = b[p++];
      if (c == ']') {
        i = p;
        return n == ImageEvent.PIXELS ? out : null;
      }
      if (c != ',' || n == ImageEvent.PIXELS) {
        return null;
      }
    }
  }

  /**
   * A flat array of at most {@code max} integers written plainly (an optional minus, up to 18
   * digits, no fraction or exponent), such as a tensor's shape; null otherwise.
   */
  public long[] wholeNumbers(int max) {
    if (!expect('[')) {
      return null;
    }
    long[] out = new long[max];
    int n = 0;
    if (expect(']')) {
      return new long[0];
    }
    do {
      skipSpace();
      int p = i;
      boolean negative = p < b.length && b[p] == '-';
      if (negative) {
        p++;
      }
      int start = p;
      long v = 0;
      while (p < b.length && isDigit(b[p]) && p - start < 18) {
        v = v * 10 + (b[p++] - '0');
      }
      int digits = p - start;
      if (n == max
          || digits == 0
          || (digits > 1 && b[start] == '0')
          || (p < b.length && (isDigit(b[p]) || b[p] == '.' || b[p] == 'e' || b[p] == 'E'))) {
        return null;
      }
      i = p;
      out[n++] = negative ? -v : v;
    } while (expect(','));
    return expect(']') ? java.util.Arrays.copyOf(out, n) : null;
  }

  /**
   * The numbers of an array, flat or nested, handed to {@code sink} in document order: how many, or
   * -1 when something else is in it or the sink stopped.
   */
  public int numbers(NumberSink sink) {
    if (!expect('[')) {
      return -1;
    }
    int[] count = {0};
    return numbers(sink, count, 1) ? count[0] : -1;
  }

  private boolean numbers(NumberSink sink, int[] count, int depth) {
    if (expect(']')) {
      return true;
    }
    byte[] b = this.b;
    int end = b.length;
    while (true) {
      // The common case first: a small whole number written compactly, right before ',' or ']'
      // (UINT8 pixels as json.dumps and most clients write them), and among those the commonest,
      // the zeros of an image's background, which come in runs.
      if (i + 1 < end && b[i] == '0' && b[i + 1] == ',') {
        if (!sink.acceptWhole(0)) {
          return false;
        }
        count[0]++;
        i += 2;
        continue;
      }
      int p = i;
      int v = 0;
      while (p < end && p - i < 9 && isDigit(b[p])) {
        v = v * 10 + (b[p++] - '0');
      }
      if (p > i && p < end && (b[p] == ',' || b[p] == ']') && (p - i == 1 || b[i] != '0')) {
        if (!sink.acceptWhole(v)) {
          return false;
        }
        count[0]++;
        i = p + 1;
        if (b[p] == ']') {
          return true;
        }
        continue;
      }
      skipSpace();
      if (i < end && b[i] == '[') {
        i++;
        if (depth >= MAX_DEPTH || !numbers(sink, count, depth + 1)) {
          return false;
        }
      } else {
        double d = number();
        if (Double.isNaN(d) || !sink.accept(d)) {
          return false;
        }
        count[0]++;
      }
      if (!expect(',')) {
        return expect(']');
      }
    }
  }

  /**
   * A JSON number: its correctly rounded double, or NaN when the next token is not a number. Exact
   * in one division or multiplication when the digits fit 53 bits and the decimal exponent is
   * within ±22 (a pixel, a probability, Python's repr of a float32); otherwise by {@link
   * Double#parseDouble}, which rounds the same way.
   */
  public double number() {
    skipSpace();
    byte[] b = this.b;
    int end = b.length;
    int start = i;
    int p = i;
    boolean negative = p < end && b[p] == '-';
    if (negative) {
      p++;
    }
    int intStart = p;
    long mantissa = 0;
    boolean exact = true; // the digits so far fit 53 bits (once false, the mantissa is unused)
    while (p < end && isDigit(b[p])) {
      mantissa = mantissa * 10 + (b[p++] - '0');
      exact &= mantissa < EXACT_LIMIT;
    }
    int intDigits = p - intStart;
    if (intDigits == 0 || (intDigits > 1 && b[intStart] == '0')) {
      return Double.NaN;
    }
    int exponent = 0;
    boolean whole = true;
    if (p < end && b[p] == '.') {
      p++;
      whole = false;
      int fracStart = p;
      while (p < end && isDigit(b[p])) {
        mantissa = mantissa * 10 + (b[p++] - '0');
        exact &= mantissa < EXACT_LIMIT;
        exponent--;
      }
      if (p == fracStart) {
        return Double.NaN;
      }
    }
    if (p < end && (b[p] == 'e' || b[p] == 'E')) {
      p++;
      whole = false;
      boolean minus = p < end && b[p] == '-';
      if (p < end && (b[p] == '-' || b[p] == '+')) {
        p++;
      }
      int expStart = p;
      int e = 0;
      while (p < end && isDigit(b[p])) {
        e = Math.min(e * 10 + (b[p++] - '0'), 100_000);
      }
      if (p == expStart) {
        return Double.NaN;
      }
      exponent += minus ? -e : e;
    }
    if (p - start > MAX_NUMBER_LENGTH) {
      return Double.NaN; // Jackson refuses it (StreamReadConstraints)
    }
    i = p;
    if (!exact || exponent < -22 || exponent > 22) {
      return Double.parseDouble(new String(b, start, p - start, StandardCharsets.US_ASCII));
    }
    // Clinger's fast path: both operands exact, so one IEEE operation rounds correctly.
    double value =
        exponent < 0 ? mantissa / POWERS_OF_TEN[-exponent] : mantissa * POWERS_OF_TEN[exponent];
    // "-0" is the integer 0 to Jackson; "-0.0" the double -0.0.
    return negative && !(whole && mantissa == 0) ? -value : value;
  }

  /**
   * Skips one value of any kind (strings with escapes, numbers, literals, objects and arrays nested
   * up to 32 deep); false when it is not well-formed JSON.
   */
  public boolean skipValue() {
    return skipValue(0);
  }

  private boolean skipValue(int depth) {
    skipSpace();
    if (i >= b.length || depth > MAX_DEPTH) {
      return false;
    }
    switch (b[i]) {
      case '"':
        return skipString();
      case '{':
        i++;
        if (expect('}')) {
          return true;
        }
        do {
          skipSpace();
          if (!skipString() || !expect(':') || !skipValue(depth + 1)) {
            return false;
          }
        } while (expect(','));
        return expect('}');
      case '[':
        i++;
        if (expect(']')) {
          return true;
        }
        do {
          if (!skipValue(depth + 1)) {
            return false;
          }
        } while (expect(','));
        return expect(']');
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return !Double.isNaN(number());
    }
  }

  /**
   * A string of ASCII, escapes included (each checked to be one JSON allows); false for other
   * bytes, so that Jackson checks their UTF-8.
   */
  private boolean skipString() {
    if (i >= b.length || b[i] != '"') {
      return false;
    }
    i++;
    while (i < b.length) {
      byte c = b[i++];
      if (c == '"') {
        return true;
      }
      if (c < 0x20) { // control characters, and bytes >= 0x80 (negative)
        return false;
      }
      if (c == '\\') {
        if (i >= b.length) {
          return false;
        }
        byte e = b[i++];
        if (e == 'u') {
          for (int k = 0; k < 4; k++) {
            if (i >= b.length || Character.digit(b[i++], 16) < 0) {
              return false;
            }
          }
        } else if ("\"\\/bfnrt".indexOf(e) < 0) {
          return false;
        }
      }
    }
    return false;
  }

  private static boolean isSpace(byte c) {
    // Digits and punctuation, the common bytes, fail the first test.
    return c <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
  }

  private static boolean isDigit(byte c) {
    return c >= '0' && c <= '9';
  }
}
