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
import lenet.service.api.ApiError;
import lenet.service.security.Mutating;
import lenet.service.security.Roles;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The dataset over HTTP: its facts and ingest status, and a trigger. */
@Path("/api/datasets/mnist")
@Produces(MediaType.APPLICATION_JSON)
@Tag(
    name = "Dataset",
    description = "The MNIST copy on Kafka: its facts, its samples, a new ingest")
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
  @Operation(
      summary = "The dataset's facts and the ingest status",
      description =
          "Per split (train, dev, test): shape, dtype, peak-to-peak before and after scaling, label"
              + " counts; the ingest's state (IDLE, RUNNING, DONE, SKIPPED, FAILED), progress and"
              + " the manifest of the copy on Kafka. `facts` is absent until the files were read.")
  @APIResponse(
      responseCode = "200",
      description = "Facts and status",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "done",
                      value =
                          "{\"status\": {\"state\": \"DONE\", \"message\": \"70000 images on"
                              + " Kafka\", \"manifest\": {\"splits\": {\"train\": {\"images\":"
                              + " 48000}}}}, \"facts\": {\"splits\": {\"train\": {\"images\": 48000,"
                              + " \"shape\": [48000, 1, 28, 28], \"dtype\": \"float32\","
                              + " \"rawPeakToPeak\": 255, \"peakToPeak\": 1.0}}}}")))
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
  @Operation(
      summary = "Ingest now (API token)",
      description =
          "Reads the four IDX files and writes one complete, checksummed copy to Kafka; skipped"
              + " when the same copy is there already, unless `force=true`. Needs the API token"
              + " and `Content-Type: application/json` (an empty body is fine).")
  @APIResponse(
      responseCode = "202",
      description = "Started: the ingest status",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "started",
                      value = "{\"state\": \"RUNNING\", \"message\": \"reading the files\"}")))
  @APIResponse(
      responseCode = "409",
      description = "An ingest is already running",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "running",
                      value =
                          "{\"error\": \"an ingest is already running\", \"status\":"
                              + " {\"state\": \"RUNNING\"}}")))
  @APIResponse(
      responseCode = "415",
      description = "The request is not JSON",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  @RequestBody(
      description = "None needed; the request must be JSON (`Content-Type: application/json`)",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "empty", value = "{}")))
  public Response ingest(
      @Parameter(description = "Ingest even when the same copy is on Kafka already")
          @QueryParam("force")
          @DefaultValue("false")
          boolean force) {
    if (!job.start(force)) {
      return Response.status(Response.Status.CONFLICT)
          .entity(Map.of("error", "an ingest is already running", "status", job.status()))
          .build();
    }
    return Response.accepted(job.status()).build();
  }
}
