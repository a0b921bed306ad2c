package lenet.trainer.rest;

import io.smallrye.mutiny.Multi;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.function.Consumer;
import lenet.contract.wire.TrainingEvent;
import lenet.trainer.runs.RunRegistry;
import org.jboss.resteasy.reactive.RestStreamElementType;

/**
 * {@code GET /api/runs/events}: every training event as it reaches this trainer's run history, as
 * server-sent events (one JSON {@link TrainingEvent} each), so a page follows a run without
 * polling. Only events from the moment of connecting; {@code GET /api/runs/{id}} has the past.
 */
@Path("/api/runs/events")
public class RunEventsResource {

  private final RunRegistry registry;

  RunEventsResource(RunRegistry registry) {
    this.registry = registry;
  }

  @GET
  @Produces(MediaType.SERVER_SENT_EVENTS)
  @RestStreamElementType(MediaType.APPLICATION_JSON)
  public Multi<TrainingEvent> events() {
    return Multi.createFrom()
        .emitter(
            emitter -> {
              Consumer<TrainingEvent> listener = emitter::emit;
              registry.subscribe(listener);
              // A closed tab or a dropped connection cancels the stream: stop telling it.
              emitter.onTermination(() -> registry.unsubscribe(listener));
            });
  }
}
