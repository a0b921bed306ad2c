package lenet.inference.rest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * {@code GET /api/stats}: images scored per source and dead letters per reason since this replica
 * started, as JSON for the page; the same counters {@code /q/metrics} exports ({@code
 * inference_predictions_total}, {@code inference_dead_letters_total}).
 */
@Path("/api/stats")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Models")
public class StatsResource {

  /** Totals and their breakdown by the counter's tag. */
  public record Counts(long total, Map<String, Long> by) {}

  public record Stats(Counts predictions, Counts deadLetters) {}

  private final MeterRegistry registry;

  StatsResource(MeterRegistry registry) {
    this.registry = registry;
  }

  @GET
  @Operation(
      summary = "Images scored and dead letters since this replica started",
      description =
          "Predictions per source (kafka, http, oip) and dead letters per reason; the counters"
              + " of /q/metrics.")
  @APIResponse(
      responseCode = "200",
      description = "The counts",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "counts",
                      value =
                          "{\"predictions\": {\"total\": 1200, \"by\": {\"http\": 200, \"kafka\":"
                              + " 1000}}, \"deadLetters\": {\"total\": 2, \"by\":"
                              + " {\"MALFORMED_JSON\": 2}}}")))
  public Stats stats() {
    return new Stats(
        counts("inference.predictions", "source"), counts("inference.dead.letters", "reason"));
  }

  private Counts counts(String name, String tag) {
    Map<String, Long> by = new TreeMap<>();
    for (Counter c : registry.find(name).counters()) {
      by.merge(String.valueOf(c.getId().getTag(tag)), (long) c.count(), Long::sum);
    }
    return new Counts(by.values().stream().mapToLong(Long::longValue).sum(), by);
  }
}
