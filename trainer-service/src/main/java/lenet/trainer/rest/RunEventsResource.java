package lenet.trainer.rest;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.smallrye.mutiny.Multi;
import jakarta.inject.Singleton;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import lenet.contract.wire.TrainingEvent;
import lenet.trainer.TrainerConfig;
import lenet.trainer.runs.RunRegistry;
import org.jboss.resteasy.reactive.RestStreamElementType;

/**
 * {@code GET /api/runs/events}: every training event as it reaches this trainer's run history, as
 * server-sent events (one JSON {@link TrainingEvent} each), so a page follows a run without
 * polling. Only events from the moment of connecting; {@code GET /api/runs/{id}} has the past.
 * Bounded: at most {@code trainer.events.max-subscribers} streams (one more gets 503), and a stream
 * whose client falls {@code trainer.events.buffer} events behind is ended.
 */
@Path("/api/runs/events")
@Singleton
@Startup // its gauge is there before the first stream
public class RunEventsResource {

  private final RunRegistry registry;
  private final int maxSubscribers;
  private final int buffer;
  private final AtomicInteger subscribers = new AtomicInteger();

  RunEventsResource(RunRegistry registry, TrainerConfig config, MeterRegistry meters) {
    this.registry = registry;
    this.maxSubscribers = config.eventsMaxSubscribers();
    this.buffer = config.eventsBuffer();
    Gauge.builder("trainer.event.subscribers", subscribers, AtomicInteger::get)
        .description("Live event streams served now")
        .register(meters);
  }

  @GET
  @Produces(MediaType.SERVER_SENT_EVENTS)
  @RestStreamElementType(MediaType.APPLICATION_JSON)
  public Multi<TrainingEvent> events() {
    if (subscribers.incrementAndGet() > maxSubscribers) {
      subscribers.decrementAndGet();
      throw new WebApplicationException(
          Response.status(Response.Status.SERVICE_UNAVAILABLE)
              .header("Retry-After", "10")
              .type(MediaType.APPLICATION_JSON)
              .entity(
                  Map.of(
                      "error",
                      maxSubscribers
                          + " event streams are open (trainer.events.max-subscribers); retry later",
                      "reason",
                      "TOO_MANY_SUBSCRIBERS"))
              .build());
    }
    return Multi.createFrom()
        .<TrainingEvent>emitter(
            emitter -> {
              Consumer<TrainingEvent> listener = emitter::emit;
              registry.subscribe(listener);
              // A closed tab, a dropped connection or a client too far behind ends the stream:
              // stop telling it, and free its place.
              emitter.onTermination(
                  () -> {
                    registry.unsubscribe(listener);
                    subscribers.decrementAndGet();
                  });
            })
        .onOverflow()
        .buffer(buffer);
  }
}
