package lenet.inference.feedback;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A token bucket per client: {@code burst} labels at once, refilled at {@code rate} a second; the
 * {@code clients} most recently seen are remembered (the one idle longest is forgotten first).
 */
final class FeedbackLimiter {

  private record Bucket(double tokens, long atNanos) {}

  private final double rate;
  private final int burst;
  private final Map<String, Bucket> buckets;

  FeedbackLimiter(double rate, int burst, int clients) {
    if (rate <= 0 || burst < 1 || clients < 1) {
      throw new IllegalArgumentException(
          "inference.feedback.rate, .burst and .clients must be positive");
    }
    this.rate = rate;
    this.burst = burst;
    this.buckets =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > clients;
          }
        };
  }

  /**
   * Takes one label's allowance of {@code client} at {@code nowNanos}: 0 when it may send, else the
   * seconds until it may (at least 1).
   */
  synchronized long take(String client, long nowNanos) {
    Bucket b = buckets.get(client);
    double tokens =
        b == null ? burst : Math.min(burst, b.tokens() + (nowNanos - b.atNanos()) / 1e9 * rate);
    if (tokens >= 1) {
      buckets.put(client, new Bucket(tokens - 1, nowNanos));
      return 0;
    }
    buckets.put(client, new Bucket(tokens, nowNanos));
    return Math.max(1, (long) Math.ceil((1 - tokens) / rate));
  }
}
