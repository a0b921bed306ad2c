package lenet.inference.outcomes;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import lenet.contract.wire.LiveAccuracy;
import lenet.contract.wire.ModelControl;
import lenet.inference.model.LiveCounts;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Live accuracy per model version as this replica reads it (the outcomes join's global store,
 * {@link OutcomesTopology#ACCURACY_STORE}), for {@code GET /api/outcomes}, {@code GET /api/models}
 * and Prometheus: {@code inference_live_accuracy{version}} and {@code
 * inference_live_labelled{version}}, a gauge pair per version seen (checked every 15 s).
 */
@ApplicationScoped
public class LiveFigures implements LiveCounts {

  private final KafkaStreams streams;
  private final MeterRegistry registry;
  private final Set<Long> gauged = ConcurrentHashMap.newKeySet();
  private ScheduledExecutorService gauges;

  LiveFigures(KafkaStreams streams, MeterRegistry registry) {
    this.streams = streams;
    this.registry = registry;
  }

  /** Every version's figures, or empty while the join has not started. */
  public Optional<Map<Long, LiveAccuracy>> byVersion() {
    return store()
        .map(
            store -> {
              Map<Long, LiveAccuracy> out = new TreeMap<>();
              try (var all = store.all()) {
                all.forEachRemaining(kv -> out.put(kv.value.modelVersion(), kv.value));
              }
              return out;
            });
  }

  /** A version's tally for the lifecycle's live decisions: zero before its first outcome. */
  @Override
  public Optional<ModelControl.Tally> tally(long version) {
    return store()
        .map(
            s ->
                Optional.ofNullable(s.get(String.valueOf(version)))
                    .orElseGet(() -> LiveAccuracy.none(version))
                    .tally());
  }

  /** The join's global store of live accuracy (key = version), once the join runs. */
  private Optional<ReadOnlyKeyValueStore<String, LiveAccuracy>> store() {
    try {
      return Optional.of(
          streams.store(
              StoreQueryParameters.fromNameAndType(
                  OutcomesTopology.ACCURACY_STORE, QueryableStoreTypes.keyValueStore())));
    } catch (InvalidStateStoreException e) {
      return Optional.empty();
    }
  }

  /** The join's state, for messages. */
  KafkaStreams.State state() {
    return streams.state();
  }

  void start(@Observes StartupEvent e) {
    gauges =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "live-accuracy-gauges");
              t.setDaemon(true);
              return t;
            });
    gauges.scheduleWithFixedDelay(this::registerGauges, 15, 15, TimeUnit.SECONDS);
  }

  void stop(@Observes ShutdownEvent e) {
    if (gauges != null) {
      gauges.shutdownNow();
    }
  }

  private void registerGauges() {
    byVersion()
        .ifPresent(
            versions ->
                versions.keySet().stream()
                    .filter(gauged::add)
                    .forEach(
                        v -> {
                          String tag = String.valueOf(v);
                          Gauge.builder("inference.live.accuracy", () -> figure(v, true))
                              .description("Live accuracy of a model version on labelled outcomes")
                              .tag("version", tag)
                              .register(registry);
                          Gauge.builder("inference.live.labelled", () -> figure(v, false))
                              .description("Labelled outcomes of a model version")
                              .tag("version", tag)
                              .register(registry);
                        }));
  }

  private double figure(long version, boolean accuracy) {
    LiveAccuracy a = store().map(s -> s.get(String.valueOf(version))).orElse(null);
    if (a == null) {
      return Double.NaN;
    }
    return accuracy ? a.accuracy() : a.labelled();
  }
}
