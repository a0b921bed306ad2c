package lenet.ingest;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;
import lenet.service.security.Mutating;
import lenet.service.security.Roles;

/** The dataset over HTTP: its facts and ingest status, and a trigger. */
@Path("/api/datasets/mnist")
@Produces(MediaType.APPLICATION_JSON)
public class DatasetResource {

  private final IngestJob job;

  DatasetResource(IngestJob job) {
    this.job = job;
  }

  /**
   * Facts (shapes, dtypes, peak-to-peak, label counts per split) and the ingest status with its
   * manifest.
   */
  @GET
  public Map<String, Object> describe() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("status", job.status());
    job.facts().ifPresent(f -> out.put("facts", f));
    return out;
  }

  /**
   * Starts an ingest: 202 with the status, 409 while one runs. Needs the API token and a JSON
   * request ({@link Mutating}).
   */
  @POST
  @Mutating
  @RolesAllowed(Roles.OPERATOR)
  @Path("/ingest")
  public Response ingest(@QueryParam("force") @DefaultValue("false") boolean force) {
    if (!job.start(force)) {
      return Response.status(Response.Status.CONFLICT)
          .entity(Map.of("error", "an ingest is already running", "status", job.status()))
          .build();
    }
    return Response.accepted(job.status()).build();
  }
}
