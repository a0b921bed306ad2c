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

/**
 * {@code GET /api/outcomes}: live accuracy per model version, from the labelled outcomes ({@link
 * OutcomesTopology}); every replica holds every version's figures. Per version: {@code
 * modelVersion, labelled, correct, accuracy, interval [low, high] (95%, Wilson), meanConfidence,
 * lowConfidence, confusion[actual][predicted]}, newest version first. 503 while the join has not
 * started.
 */
@Path("/api/outcomes")
@Produces(MediaType.APPLICATION_JSON)
public class OutcomesResource {

  private final LiveFigures figures;

  OutcomesResource(LiveFigures figures) {
    this.figures = figures;
  }

  @GET
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
