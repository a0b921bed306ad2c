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
import lenet.service.api.ApiError;
import lenet.trainer.TrainerConfig;
import lenet.trainer.runs.RunRegistry;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
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
@Tag(name = "Runs")
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
  @Operation(
      summary = "Every training event as it happens (server-sent events)",
      description =
          "One JSON training event per SSE `data:` line (QUEUED, STARTED, EPOCH, COMPLETED,"
              + " FAILED, CANCELLED; the shapes of `training.events`), from the moment of"
              + " connecting. At most `trainer.events.max-subscribers` streams; a client that falls"
              + " `trainer.events.buffer` events behind is cut off.")
  @APIResponse(
      responseCode = "200",
      description = "The stream",
      content =
          @Content(
              mediaType = MediaType.SERVER_SENT_EVENTS,
              examples =
                  @ExampleObject(
                      name = "an epoch",
                      value =
                          "data:{\"type\":\"EPOCH\",\"runId\":\"my-run\",\"epoch\":1,"
                              + "\"loss\":0.21,\"accuracy\":0.94,\"devLoss\":0.07,"
                              + "\"devAccuracy\":0.98,\"modelVersion\":12,...}")))
  @APIResponse(
      responseCode = "503",
      description = "Too many streams are open; retry after `Retry-After` seconds",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = ApiError.class)))
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
