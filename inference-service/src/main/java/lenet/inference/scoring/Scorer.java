package lenet.inference.scoring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import lenet.contract.wire.Prediction;
import lenet.inference.model.ModelLease;
import lenet.inference.model.ModelManager;
import lenet.inference.model.UnknownVersionException;

/**
 * One forward pass over a batch of model inputs on the serving model (or, for its share of batches,
 * the canary: each answer carries the version that computed it), counted and timed per source
 * (http, oip, kafka). HTTP and Kafka score through here alike.
 */
@ApplicationScoped
public class Scorer {

  /** Where a batch came from; a metrics tag. */
  public enum Source {
    HTTP,
    OIP,
    KAFKA
  }

  /** Probabilities of a batch and the version that computed them. */
  public record Scored(long modelVersion, float[][] probabilities) {}

  private final ModelManager models;
  private final MeterRegistry registry;
  private final Map<Source, Counter> predictions = new ConcurrentHashMap<>();
  private final Map<Source, Timer> latency = new ConcurrentHashMap<>();

  Scorer(ModelManager models, MeterRegistry registry) {
    this.models = models;
    this.registry = registry;
  }

  /**
   * Scores {@code rows} (784 values in [0,1] each) in one forward pass.
   *
   * @param version the version that must compute it, or empty for the serving one
   * @throws lenet.inference.model.NoModelException before the first model serves
   * @throws UnknownVersionException when {@code version} is not the loaded one
   */
  public Scored score(float[][] rows, Source source, OptionalLong version) {
    Timer.Sample sample = Timer.start(registry);
    try (ModelLease lease = models.lease(version.isEmpty())) {
      if (version.isPresent() && version.getAsLong() != lease.version()) {
        throw new UnknownVersionException(
            "model version "
                + version.getAsLong()
                + " is not loaded; v"
                + lease.version()
                + " serves (POST /api/models/"
                + version.getAsLong()
                + "/activate loads another)");
      }
      float[][] out = lease.predict(rows);
      counter(source).increment(rows.length);
      models.shadow(rows, out);
      return new Scored(lease.version(), out);
    } finally {
      sample.stop(timer(source));
    }
  }

  /** Scores a batch and pairs each row with its id. */
  public List<Prediction> predict(List<String> ids, float[][] rows, Source source) {
    Scored scored = score(rows, source, OptionalLong.empty());
    List<Prediction> out = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) {
      out.add(
          Prediction.fromProbabilities(
              ids.get(i), scored.probabilities()[i], scored.modelVersion()));
    }
    return out;
  }

  private Counter counter(Source source) {
    return predictions.computeIfAbsent(
        source,
        s ->
            Counter.builder("inference.predictions")
                .description("Images scored")
                .tag("source", s.name().toLowerCase())
                .register(registry));
  }

  private Timer timer(Source source) {
    return latency.computeIfAbsent(
        source,
        s ->
            Timer.builder("inference.latency")
                .description(
                    "Time to score one request or micro-batch, waiting for a forward-pass slot included")
                .tag("source", s.name().toLowerCase())
                .publishPercentileHistogram()
                .register(registry));
  }
}
