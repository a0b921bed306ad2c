package lenet.e2e;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;

/**
 * An OTLP/HTTP trace receiver in the test ({@code POST /v1/traces}, protobuf), what a collector or
 * Jaeger is to the services: it keeps every span it is sent, with the name of the service that sent
 * it.
 */
final class OtlpReceiver implements AutoCloseable {

  /** A span as received, its ids in hex. */
  record Received(String service, Span span) {
    String traceId() {
      return HexFormat.of().formatHex(span.getTraceId().toByteArray());
    }

    String spanId() {
      return HexFormat.of().formatHex(span.getSpanId().toByteArray());
    }

    String parentSpanId() {
      return HexFormat.of().formatHex(span.getParentSpanId().toByteArray());
    }

    String name() {
      return span.getName();
    }

    Map<String, AnyValue> attributes() {
      return span.getAttributesList().stream()
          .collect(Collectors.toMap(KeyValue::getKey, KeyValue::getValue, (a, b) -> b));
    }

    Optional<AnyValue> attribute(String key) {
      return Optional.ofNullable(attributes().get(key));
    }

    /** The trace ids this span links to. */
    List<String> linkedTraces() {
      return span.getLinksList().stream()
          .map(l -> HexFormat.of().formatHex(l.getTraceId().toByteArray()))
          .toList();
    }

    @Override
    public String toString() {
      return service + ": " + name() + " " + traceId() + "/" + spanId() + " " + attributes();
    }
  }

  private final HttpServer server;
  private final ConcurrentLinkedQueue<Received> spans = new ConcurrentLinkedQueue<>();

  OtlpReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/v1/traces",
        exchange -> {
          try (InputStream body = exchange.getRequestBody()) {
            InputStream in =
                "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
                    ? new GZIPInputStream(body)
                    : body;
            keep(ExportTraceServiceRequest.parseFrom(in));
            byte[] ok = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
            exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, ok.length == 0 ? -1 : ok.length);
            if (ok.length > 0) {
              exchange.getResponseBody().write(ok);
            }
          } catch (RuntimeException e) {
            exchange.sendResponseHeaders(400, -1);
          } finally {
            exchange.close();
          }
        });
    server.start();
  }

  private void keep(ExportTraceServiceRequest request) {
    for (ResourceSpans rs : request.getResourceSpansList()) {
      String service =
          rs.getResource().getAttributesList().stream()
              .filter(kv -> kv.getKey().equals("service.name"))
              .map(kv -> kv.getValue().getStringValue())
              .findFirst()
              .orElse("?");
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          spans.add(new Received(service, s));
        }
      }
    }
  }

  /** Where the services send their spans: {@code http://127.0.0.1:<port>}. */
  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The environment that turns tracing on in a service and points it here. */
  Map<String, String> env() {
    return Map.of(
        "QUARKUS_OTEL_SDK_DISABLED", "false",
        "QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT", endpoint(),
        "QUARKUS_OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
        "QUARKUS_OTEL_BSP_SCHEDULE_DELAY", "200ms");
  }

  /** The spans received so far in trace {@code traceId}. */
  List<Received> trace(String traceId) {
    return spans.stream().filter(s -> s.traceId().equals(traceId)).toList();
  }

  List<Received> all() {
    return List.copyOf(spans);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
