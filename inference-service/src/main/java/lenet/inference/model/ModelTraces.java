package lenet.inference.model;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import lenet.support.kafka.KafkaTracing;
import org.apache.kafka.common.header.Headers;

/**
 * Where a model version's decisions are traced: in the trace its checkpoint came in (the trainer's
 * {@code epoch} span, in its training command's trace), so that one trace holds a command's run,
 * its checkpoints, the gate's scoring of them and the verdict. Keeps the trace context of each
 * checkpoint that carries one, until its version is deleted.
 */
final class ModelTraces {

  static final ModelTraces OFF = new ModelTraces(OpenTelemetry.noop().getTracer("lenet.inference"));

  private final Tracer tracer;
  private final Map<Long, Context> checkpoints = new ConcurrentHashMap<>();

  ModelTraces(Tracer tracer) {
    this.tracer = tracer;
  }

  /** Checkpoint {@code version} came with {@code headers}: its trace context, if any, is kept. */
  void checkpoint(long version, Headers headers) {
    if (this == OFF) {
      return;
    }
    Context c = KafkaTracing.extract(headers);
    if (Span.fromContext(c).getSpanContext().isValid()) {
      checkpoints.put(version, c);
    }
  }

  void forget(long version) {
    checkpoints.remove(version);
  }

  /**
   * A span {@code name} about {@code version}: a child of the current span when there is one (a
   * verdict within its gate), else in the trace of the version's checkpoint (a root when it had
   * none). The caller ends it.
   */
  Span start(String name, long version) {
    Context parent =
        Span.current().getSpanContext().isValid()
            ? Context.current()
            : checkpoints.getOrDefault(version, Context.root());
    return tracer
        .spanBuilder(name)
        .setParent(parent)
        .setAttribute("lenet.model.version", version)
        .startSpan();
  }
}
