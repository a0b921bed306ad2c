package lenet.e2e.docs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import lenet.e2e.deploy.ServiceSettings;
import lenet.e2e.deploy.ServiceSettings.Declaration;
import lenet.e2e.deploy.ServiceSettings.Setting;

/**
 * {@code docs/settings.md}, rendered from the code: every setting a service declares (its
 * {@code @ConfigMapping} accessors, {@code @ConfigProperty} injection points, topic names, keys
 * read through {@code ${key:default}}) and the framework keys its {@code application.properties}
 * sets, each with its environment variable, the default the service takes (after its properties
 * files) and its meaning from the javadoc of the code that declares it. A setting the code declares
 * without saying what it means fails the rendering.
 */
final class SettingsReference {

  /**
   * Keys that Quarkus or Kafka define and the services set or read, with what they mean here (their
   * own documentation is upstream).
   */
  static final Map<String, String> FRAMEWORK_KEYS =
      Map.of(
          "kafka.bootstrap.servers",
          "The Kafka brokers (`host:port`, comma-separated). Every `kafka.*` key is handed to every"
              + " Kafka client of the service as it is (e.g. `kafka.security.protocol`,"
              + " `kafka.sasl.jaas.config`).",
          "quarkus.http.host",
          "The address the HTTP server binds; `0.0.0.0` in containers.",
          "quarkus.http.port",
          "The HTTP port: page, API, `/q/health`, `/q/metrics`.",
          "quarkus.http.limits.max-body-size",
          "Larger request bodies are refused with 413 before they are read.",
          "quarkus.log.console.json.enabled",
          "`true`: each log line is one JSON object (with the MDC: the request's `traceId` and"
              + " `spanId`), for a log shipper; `false`: plain lines (see docs/operations.md, the"
              + " API document and logs).",
          "quarkus.otel.sdk.disabled",
          "`true` (the default): tracing is off, the OpenTelemetry API a no-op. `false` turns it"
              + " on: spans go over OTLP to `quarkus.otel.exporter.otlp.endpoint`, and the trace"
              + " context travels in `traceparent` headers of the Kafka records (docs/tracing.md).",
          "quarkus.otel.exporter.otlp.endpoint",
          "Where spans go when tracing is on: an OTLP/gRPC endpoint (a collector, Jaeger);"
              + " `quarkus.otel.exporter.otlp.protocol=http/protobuf` for OTLP/HTTP (port 4318).",
          "api.read-policy",
          "`authenticated`: every `/api` and `/v2` request needs the API token too (health probes"
              + " and the pages stay open); `permit`: reads, predictions and OIP are open.");

  static final String REWRITE =
      "./mvnw -B -pl e2e-tests -am test -Dtest=SettingsReferenceTest"
          + " -Dsurefire.failIfNoSpecifiedTests=false -Dsettings.write=true";

  /** The services in the order data flows through them; any other after them, by name. */
  private static final Comparator<String> PIPELINE_ORDER =
      Comparator.comparingInt(
              (String s) -> {
                int i =
                    List.of("ingest-service", "trainer-service", "inference-service").indexOf(s);
                return i < 0 ? Integer.MAX_VALUE : i;
              })
          .thenComparing(Comparator.naturalOrder());

  /** One row of a table. */
  record Row(String key, String envName, String defaultValue, String meaning) {}

  private SettingsReference() {}

  /** The Markdown of {@code docs/settings.md}. */
  static String render(Map<String, ServiceSettings> services, SourceDocs docs) {
    Map<String, Map<String, Row>> rows = new TreeMap<>(PIPELINE_ORDER);
    List<String> undocumented = new ArrayList<>();
    services.forEach((service, settings) -> rows.put(service, rows(settings, docs, undocumented)));
    if (!undocumented.isEmpty()) {
      throw new IllegalStateException(
          "Settings without javadoc; document each where it is declared: "
              + String.join("; ", new TreeSet<>(undocumented)));
    }
    Map<String, Row> common = new TreeMap<>();
    rows.values().iterator().next().values().stream()
        .filter(r -> rows.values().stream().allMatch(s -> r.equals(s.get(r.key()))))
        .forEach(r -> common.put(r.key(), r));
    StringBuilder md = new StringBuilder();
    md.append("# Settings\n\n")
        .append(
            "<!-- Generated from the code by e2e-tests' SettingsReferenceTest; do not edit. -->\n")
        .append("<!-- Rewrite: ")
        .append(REWRITE)
        .append(" -->\n\n")
        .append(
            "Every setting of the three services, rendered from the code that declares it (the"
                + " `@ConfigMapping` interfaces `IngestConfig`, `TrainerConfig`, `InferenceConfig`,"
                + " the `@ConfigProperty` injection points such as service-common's"
                + " `ApiSecurityConfig`, and the topic table `Topic`) with the default the service"
                + " takes when nothing sets it. A test fails when this page differs from the code."
                + "\n\n")
        .append(
            "Set a key in the service's `application.properties`, as a system property"
                + " (`-Dtrainer.epochs=5`), or as the environment variable beside it"
                + " (`TRAINER_EPOCHS=5`). Durations take `10s`, `1ms`, `10m` or ISO-8601;"
                + " lists are comma-separated.\n\n");
    md.append("- [Every service](#every-service)\n");
    rows.keySet().forEach(s -> md.append("- [").append(s).append("](#").append(s).append(")\n"));
    md.append("\n## Every service\n\n");
    table(md, common.values());
    rows.forEach(
        (service, own) -> {
          md.append("\n## ").append(service).append("\n\n");
          table(md, own.values().stream().filter(r -> !common.containsKey(r.key())).toList());
        });
    return md.toString();
  }

  private static Map<String, Row> rows(
      ServiceSettings settings, SourceDocs docs, List<String> undocumented) {
    Map<String, Row> rows = new TreeMap<>();
    for (Setting s : settings.byKey().values()) {
      if (s.declaration().isPresent() || FRAMEWORK_KEYS.containsKey(s.key())) {
        Optional<String> meaning = meaning(s, docs);
        if (meaning.isEmpty()) {
          undocumented.add(s.key() + " (" + s.declaration().map(Object::toString).orElse("") + ")");
          continue;
        }
        rows.put(
            s.key(),
            new Row(
                s.key(),
                s.envName(),
                s.defaultValue() == null ? "none" : code(s.defaultValue()),
                meaning.get().replace("|", "\\|") + allowedValues(s)));
      }
    }
    return rows;
  }

  /** What the code says the setting means. */
  static Optional<String> meaning(Setting s, SourceDocs docs) {
    Optional<String> said =
        s.declaration()
            .flatMap(d -> declared(d, docs))
            .filter(text -> !text.isBlank())
            .map(text -> withoutKeyPrefix(s, text))
            .or(() -> Optional.ofNullable(FRAMEWORK_KEYS.get(s.key())));
    return said;
  }

  private static Optional<String> declared(Declaration d, SourceDocs docs) {
    if (d instanceof Declaration.Accessor a) {
      return docs.of(a.method());
    }
    if (d instanceof Declaration.Injected i) {
      return docs.of(i);
    }
    if (d instanceof Declaration.TopicName t) {
      return Optional.of("Topic name. " + t.topic().purpose());
    }
    if (d instanceof Declaration.TopicPartitions t) {
      return Optional.of(
          "Partitions of `"
              + t.topic().defaultName()
              + "` when it is created; more partitions let more consumers share its work. Raising"
              + " it grows an existing topic (Kafka cannot shrink one).");
    }
    return Optional.empty();
  }

  /** A {@code @param} that opens with the key (and its variable) says it once, in the table. */
  private static String withoutKeyPrefix(Setting s, String text) {
    String prefix = "`" + s.key() + "`";
    if (!text.startsWith(prefix)) {
      return text;
    }
    String rest = text.substring(prefix.length()).replaceFirst("^ \\(`[A-Z0-9_]+`\\)", "");
    rest = rest.replaceFirst("^: ", "");
    return rest.isEmpty() ? text : Character.toUpperCase(rest.charAt(0)) + rest.substring(1);
  }

  /** The values an enum setting accepts, as SmallRye names its constants. */
  private static String allowedValues(Setting s) {
    if (s.type() == null || !s.type().isEnum()) {
      return "";
    }
    return Arrays.stream(s.type().getEnumConstants())
        .map(c -> code(((Enum<?>) c).name().toLowerCase(Locale.ROOT).replace('_', '-')))
        .collect(Collectors.joining(", ", " One of: ", "."));
  }

  private static void table(StringBuilder md, Iterable<Row> rows) {
    md.append("| Key | Environment variable | Default | Meaning |\n").append("|---|---|---|---|\n");
    for (Row r : rows) {
      md.append("| ")
          .append(code(r.key()))
          .append(" | ")
          .append(code(r.envName()))
          .append(" | ")
          .append(r.defaultValue())
          .append(" | ")
          .append(r.meaning())
          .append(" |\n");
    }
  }

  private static String code(String text) {
    return "`" + text.replace("|", "\\|") + "`";
  }

  /** Every key the reference lists, for checks of the other docs. */
  static List<String> keys(Map<String, ServiceSettings> services) {
    List<String> keys = new ArrayList<>();
    for (ServiceSettings settings : services.values()) {
      for (Setting s : settings.byKey().values()) {
        if (s.declaration().isPresent() || FRAMEWORK_KEYS.containsKey(s.key())) {
          keys.add(s.key());
        }
      }
    }
    return keys.stream().filter(Objects::nonNull).distinct().sorted().toList();
  }
}
