package lenet.inference.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import lenet.support.kafka.KafkaTracing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/**
 * One span per batch on a real SDK tracer: a child of the first traced event, a link per traced
 * event with its id, the answers' traceparents in their events' traces; off, nothing at all.
 */
class BatchTracingTest {

  static final String T1 = "4bf92f3577b34da6a3ce929d0e0e4736";
  static final String T2 = "0af7651916cd43dd8448eb211c80319c";

  private final List<SpanData> exported = new CopyOnWriteArrayList<>();

  @Test
  void aBatchIsOneSpanInItsFirstTracedEventsTraceLinkingEveryTracedEvent() {
    SdkTracerProvider sdk =
        SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(exporter()))
            .build();
    List<ConsumerRecord<byte[], byte[]>> batch =
        List.of(event(0, null), event(1, T1), event(2, T2), event(3, T1));
    BatchTracing.Batch trace = new BatchTracing(sdk.get("test")).start("digits.images", batch);
    for (int i = 0; i < batch.size(); i++) {
      trace.event(i, "e" + i);
    }
    List<List<Header>> answers = List.of(trace.headers(0), trace.headers(1), trace.headers(2));
    trace.scored(42);
    trace.end();

    assertThat(exported).hasSize(1);
    SpanData span = exported.get(0);
    assertThat(span.getName()).isEqualTo("score digits.images");
    assertThat(span.getTraceId()).isEqualTo(T1);
    assertThat(span.getParentSpanId()).isEqualTo("00f067aa0ba90201");
    assertThat(span.getAttributes().get(BatchTracing.MODEL_VERSION)).isEqualTo(42L);
    assertThat(span.getAttributes().get(BatchTracing.EVENT_IDS)).containsExactly("e1", "e2", "e3");
    assertThat(span.getLinks())
        .extracting(l -> l.getSpanContext().getTraceId() + "/" + eventId(l))
        .containsExactly(T1 + "/e1", T2 + "/e2", T1 + "/e3");
    String own = "00-" + T1 + "-" + span.getSpanId() + "-01";
    assertThat(traceparent(answers.get(0))).as("no trace of its own: the batch's").isEqualTo(own);
    assertThat(traceparent(answers.get(1)))
        .as("in the batch's trace: the batch span")
        .isEqualTo(own);
    assertThat(traceparent(answers.get(2)))
        .as("another trace: the event's own")
        .isEqualTo("00-" + T2 + "-00f067aa0ba90202-01");
  }

  @Test
  void offReadsAndWritesNothing() {
    BatchTracing.Batch trace = BatchTracing.OFF.start("digits.images", List.of(event(0, T1)));
    trace.event(0, "e0");
    assertThat(trace.headers(0)).isEmpty();
    trace.scored(1);
    trace.end();
  }

  private static String eventId(LinkData l) {
    return l.getAttributes().get(BatchTracing.EVENT_ID);
  }

  private static String traceparent(List<Header> headers) {
    RecordHeaders h = new RecordHeaders(headers);
    Header tp = h.lastHeader(KafkaTracing.TRACEPARENT);
    return tp == null ? null : new String(tp.value(), StandardCharsets.UTF_8);
  }

  private static ConsumerRecord<byte[], byte[]> event(int offset, String traceId) {
    RecordHeaders headers = new RecordHeaders();
    if (traceId != null) {
      String span = traceId.equals(T1) ? "00f067aa0ba90201" : "00f067aa0ba90202";
      headers.add(
          KafkaTracing.TRACEPARENT,
          ("00-" + traceId + "-" + span + "-01").getBytes(StandardCharsets.UTF_8));
    }
    return new ConsumerRecord<>(
        "digits.images",
        0,
        offset,
        0L,
        TimestampType.CREATE_TIME,
        0,
        0,
        null,
        new byte[0],
        headers,
        java.util.Optional.empty());
  }

  private SpanExporter exporter() {
    return new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        exported.addAll(spans);
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
  }
}
