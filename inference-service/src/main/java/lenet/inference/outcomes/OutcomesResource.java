package lenet.inference.outcomes;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import lenet.contract.wire.LiveAccuracy;
import lenet.service.api.ApiError;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * {@code GET /api/outcomes}: live accuracy per model version, from the labelled outcomes ({@link
 * OutcomesTopology}); every replica holds every version's figures. Per version: {@code
 * modelVersion, labelled, correct, accuracy, interval [low, high] (95%, Wilson), meanConfidence,
 * lowConfidence, confusion[actual][predicted]}, newest version first. 503 while the join has not
 * started.
 */
@Path("/api/outcomes")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Feedback")
public class OutcomesResource {

  private final LiveFigures figures;

  OutcomesResource(LiveFigures figures) {
    this.figures = figures;
  }

  @GET
  @Operation(
      summary = "Live accuracy per model version, from labelled outcomes",
      description =
          "Newest version first: labelled, correct, accuracy with its 95% Wilson interval, mean"
              + " confidence, low-confidence count (< 0.5) and the confusion matrix"
              + " [actual][predicted], from the labelled outcomes of every replica.")
  @APIResponse(
      responseCode = "200",
      description = "The figures",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "one version",
                      value =
                          "{\"versions\": [{\"modelVersion\": 12, \"labelled\": 40, \"correct\": 39,"
                              + " \"accuracy\": 0.975, \"interval\": [0.871, 0.996],"
                              + " \"meanConfidence\": 0.98, \"lowConfidence\": 1, \"confusion\":"
                              + " [[4, 0, 0, 0, 0, 0, 0, 0, 0, 0], \"...ten rows of ten...\"]}]}")))
  @APIResponse(
      responseCode = "503",
      description = "The outcomes join is not running yet (NOT_RUNNING)",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  public Response get() {
    var byVersion = figures.byVersion();
    if (byVersion.isEmpty()) {
      return Response.status(Response.Status.SERVICE_UNAVAILABLE)
          .header("Retry-After", 5)
          .entity(
              Map.of(
                  "error",
                  "the outcomes join is not running yet (" + figures.state() + ")",
                  "reason",
                  "NOT_RUNNING"))
          .build();
    }
    List<Map<String, Object>> versions = new ArrayList<>();
    byVersion.get().values().forEach(a -> versions.add(0, view(a)));
    return Response.ok(Map.of("versions", versions)).build();
  }

  /** One version's figures as the API shows them. */
  public static Map<String, Object> view(LiveAccuracy a) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("modelVersion", a.modelVersion());
    v.put("labelled", a.labelled());
    v.put("correct", a.correct());
    v.put("accuracy", a.labelled() == 0 ? null : a.accuracy());
    v.put("interval", a.interval());
    v.put("meanConfidence", a.labelled() == 0 ? null : a.meanConfidence());
    v.put("lowConfidence", a.lowConfidence());
    long[][] confusion = new long[10][10];
    for (int i = 0; i < 100; i++) {
      confusion[i / 10][i % 10] = a.confusion()[i];
    }
    v.put("confusion", confusion);
    return v;
  }
}
