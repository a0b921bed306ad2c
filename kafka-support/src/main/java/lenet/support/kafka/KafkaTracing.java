package lenet.support.kafka;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The one place where a trace context goes into and comes out of Kafka record headers: the W3C
 * {@code traceparent} (and {@code tracestate}) headers, as UTF-8 text, which is also what
 * OpenTelemetry's Kafka instrumentation and SmallRye's Kafka connector read and write. Every
 * service and every plain-client hop (scoring, training commands, checkpoints, control records)
 * goes through here.
 *
 * <p>Costs nothing when tracing is off: a no-op tracer's spans have an invalid context, and {@link
 * #inject} writes nothing for them; {@link #extract} of a record without the header is one header
 * look-up.
 */
public final class KafkaTracing {

  /** The W3C trace context header: {@code 00-<trace id>-<span id>-<flags>}. */
  public static final String TRACEPARENT = "traceparent";

  public static final String TRACESTATE = "tracestate";

  private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();

  private KafkaTracing() {}

  /**
   * The trace context a record carries, as a remote span context under {@link Context#root()}; the
   * root context itself when the record has none (or a malformed one).
   */
  public static Context extract(Headers headers) {
    if (headers == null || headers.lastHeader(TRACEPARENT) == null) {
      return Context.root();
    }
    return W3C.extract(Context.root(), headers, GETTER);
  }

  /** The span context a record carries; {@link SpanContext#getInvalid()} when none. */
  public static SpanContext spanContext(Headers headers) {
    return Span.fromContext(extract(headers)).getSpanContext();
  }

  /**
   * Writes {@code span}'s context into {@code headers}, replacing any trace context there; nothing
   * when the span's context is not valid (tracing off).
   */
  public static void inject(SpanContext span, Headers headers) {
    if (!span.isValid()) {
      return;
    }
    headers.remove(TRACEPARENT);
    headers.remove(TRACESTATE);
    W3C.inject(Context.root().with(Span.wrap(span)), headers, SETTER);
  }

  /** {@code span}'s context as headers for a new record; empty when it is not valid. */
  public static List<Header> headers(SpanContext span) {
    List<Header> out = new ArrayList<>(2);
    if (span.isValid()) {
      W3C.inject(
          Context.root().with(Span.wrap(span)),
          out,
          (carrier, key, value) ->
              carrier.add(
                  new org.apache.kafka.common.header.internals.RecordHeader(
                      key, value.getBytes(StandardCharsets.UTF_8))));
    }
    return out;
  }

  /** The {@code traceparent} text of {@code span}, or null when it is not valid. */
  public static String traceparent(SpanContext span) {
    if (!span.isValid()) {
      return null;
    }
    return "00-" + span.getTraceId() + "-" + span.getSpanId() + "-" + span.getTraceFlags().asHex();
  }

  private static final TextMapGetter<Headers> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers carrier) {
          List<String> keys = new ArrayList<>();
          carrier.forEach(h -> keys.add(h.key()));
          return keys;
        }

        @Override
        public String get(Headers carrier, String key) {
          if (carrier == null) {
            return null;
          }
          Header h = carrier.lastHeader(key);
          return h == null || h.value() == null
              ? null
              : new String(h.value(), StandardCharsets.UTF_8);
        }
      };

  private static final TextMapSetter<Headers> SETTER =
      (carrier, key, value) -> {
        if (carrier != null) {
          carrier.add(key, value.getBytes(StandardCharsets.UTF_8));
        }
      };
}
