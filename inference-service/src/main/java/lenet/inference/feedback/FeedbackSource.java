package lenet.inference.feedback;

import java.util.Locale;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * The sources a client of {@code POST /api/feedback} may name for its label ({@code ?source=}): a
 * plain HTTP client, or the inference page. Any other word is refused, so HTTP clients cannot pass
 * their labels off as a producer's, a trainer's or a test's; producers writing to {@code
 * digits.labels} themselves name any source.
 */
enum FeedbackSource {
  /** Any HTTP client; the default. */
  HTTP,
  /** The inference page's "right" and digit buttons. */
  PAGE;

  /** The source as the query parameter and the label record spell it. */
  String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The source named by {@code ?source=}; absent means {@link #HTTP}.
   *
   * @throws WireFormatException {@code INVALID_VALUE} for any other word
   */
  static FeedbackSource of(String query) {
    if (query == null) {
      return HTTP;
    }
    for (FeedbackSource s : values()) {
      if (s.wire().equals(query)) {
        return s;
      }
    }
    throw new WireFormatException(
        Reason.INVALID_VALUE, "the query parameter 'source' must be 'http' or 'page'");
  }
}
