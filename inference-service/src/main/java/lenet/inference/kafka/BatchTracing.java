package lenet.inference.kafka;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.util.ArrayList;
import java.util.List;
import lenet.support.kafka.KafkaTracing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * One span per scored batch, not one per event: {@code score <topic>}, a child of the first event
 * in the batch that carries a {@code traceparent} (a root otherwise), with a link to every event
 * that carries one (the link's attribute {@code lenet.event.id} says which). Its answers carry a
 * {@code traceparent} of their event's trace: the batch span's own when the event has none or is in
 * the span's trace, else the event's own.
 *
 * <p>Off ({@link #OFF}): nothing is looked at or written, not even the events' headers.
 */
final class BatchTracing {

  static final AttributeKey<String> EVENT_ID = AttributeKey.stringKey("lenet.event.id");
  static final AttributeKey<List<String>> EVENT_IDS =
      AttributeKey.stringArrayKey("lenet.event.ids");
  static final AttributeKey<Long> MODEL_VERSION = AttributeKey.longKey("lenet.model.version");

  static final BatchTracing OFF = new BatchTracing(null);

  private final Tracer tracer;

  /** Tracing with {@code tracer}; null for none. */
  BatchTracing(Tracer tracer) {
    this.tracer = tracer;
  }

  /** A batch being traced; every method is a no-op when tracing is off. */
  Batch start(String topic, List<ConsumerRecord<byte[], byte[]>> records) {
    if (tracer == null) {
      return new Batch(null, null);
    }
    SpanContext[] contexts = new SpanContext[records.size()];
    Context parent = Context.root();
    for (int i = 0; i < contexts.length; i++) {
      Context c = KafkaTracing.extract(records.get(i).headers());
      contexts[i] = Span.fromContext(c).getSpanContext();
      if (parent == Context.root() && contexts[i].isValid()) {
        parent = c;
      }
    }
    Span span =
        tracer
            .spanBuilder("score " + topic)
            .setSpanKind(SpanKind.CONSUMER)
            .setParent(parent)
            .setAttribute("messaging.system", "kafka")
            .setAttribute("messaging.operation.type", "process")
            .setAttribute("messaging.destination.name", topic)
            .setAttribute("messaging.batch.message_count", (long) records.size())
            .startSpan();
    return new Batch(span, contexts);
  }

  /** The span of one batch and the trace contexts of its events, by place in the batch. */
  static final class Batch {
    private final Span span;
    private final SpanContext[] events;
    private final List<String> linked = new ArrayList<>();
    private List<Header> ownHeaders;

    private Batch(Span span, SpanContext[] events) {
      this.span = span;
      this.events = events;
    }

    /** Event {@code i} of the batch has id {@code id}: its link, when it carries a context. */
    void event(int i, String id) {
      if (span != null && events[i].isValid()) {
        span.addLink(events[i], Attributes.of(EVENT_ID, id));
        linked.add(id);
      }
    }

    /**
     * The headers for event {@code i}'s answer: its trace context (the event's own when the event
     * is in another trace than the span, else the span's); empty when off.
     */
    List<Header> headers(int i) {
      if (span == null) {
        return List.of();
      }
      SpanContext own = span.getSpanContext();
      SpanContext event = events[i];
      if (event.isValid() && !event.getTraceId().equals(own.getTraceId())) {
        return KafkaTracing.headers(event);
      }
      if (ownHeaders == null) { // one traceparent for the batch, shared by its answers
        ownHeaders = KafkaTracing.headers(own);
      }
      return ownHeaders;
    }

    /** The batch's events went through the model of {@code modelVersion}. */
    void scored(long modelVersion) {
      if (span != null) {
        span.setAttribute(MODEL_VERSION, modelVersion);
      }
    }

    void failed(RuntimeException e) {
      if (span != null) {
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, e.toString());
      }
    }

    void end() {
      if (span != null) {
        if (!linked.isEmpty()) {
          span.setAttribute(EVENT_IDS, linked);
        }
        span.end();
      }
    }
  }
}
