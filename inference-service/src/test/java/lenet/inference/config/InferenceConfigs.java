package lenet.inference.config;

import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.runtime.configuration.PathConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link InferenceConfig} for tests that build the model lifecycle in code: the code's own defaults
 * ({@code @WithDefault}), read by SmallRye Config as the service reads them, with the keys a test
 * sets. There is no second set of defaults to drift from the code's.
 */
public final class InferenceConfigs {

  private InferenceConfigs() {}

  /**
   * The configuration with {@code keyValues} set (pairs: {@code "inference.policy", "latest", ...};
   * values are strings as in application.properties).
   */
  public static InferenceConfig of(String... keyValues) {
    return BUILT.computeIfAbsent(java.util.List.of(keyValues), k -> build(keyValues));
  }

  /** Built ones: the same keys give the same (immutable) configuration. */
  private static final Map<java.util.List<String>, InferenceConfig> BUILT =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static InferenceConfig build(String... keyValues) {
    if (keyValues.length % 2 != 0) {
      throw new IllegalArgumentException("key/value pairs expected");
    }
    Map<String, String> values = new HashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      values.put(keyValues[i], keyValues[i + 1]);
    }
    SmallRyeConfig config =
        new SmallRyeConfigBuilder()
            .withConverter(Duration.class, 200, new DurationConverter())
            .withConverter(Path.class, 200, new PathConverter())
            .withMapping(InferenceConfig.class)
            .withSources(new PropertiesConfigSource(values, "test", 500))
            .build();
    return config.getConfigMapping(InferenceConfig.class);
  }

  /**
   * A replica named {@code replicaId} that loads fast (one forward pass, one predictor, a small
   * warm-up) and retries its gate every 2 s, as tests want; {@code more} pairs override.
   */
  public static InferenceConfig replica(String replicaId, String... more) {
    String[] base = {
      "inference.replica-id", replicaId,
      "inference.predictors", "1",
      "inference.warm-up-passes", "1",
      "inference.warm-up-batch", "4",
      "inference.gate.retry", "2s"
    };
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return of(all);
  }
}
