package lenet.inference.rest;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;
import java.util.TreeMap;
import lenet.inference.config.InferenceConfig;
import lenet.inference.model.ModelManager;
import lenet.inference.model.ModelView;
import lenet.inference.outcomes.LiveFigures;
import lenet.inference.outcomes.OutcomesResource;
import lenet.service.security.Mutating;
import lenet.service.security.Roles;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The model versions this replica knows, the champion, the pin and the one that serves. {@code POST
 * /api/models/{v}/activate} pins a version (rollback or roll-forward); {@code POST
 * /api/models/follow} drops the pin and serves the champion again. Both are written to the control
 * topic, so every replica (and every later one) applies them; they answer once this replica serves
 * the result, with the new state. Both need the API token and a JSON request ({@link Mutating}).
 */
@Path("/api/models")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Models", description = "Model versions, the champion, the pin")
public class ModelsResource {

  private final ModelManager models;
  private final InferenceConfig config;
  private final LiveFigures live;

  ModelsResource(ModelManager models, InferenceConfig config, LiveFigures live) {
    this.models = models;
    this.config = config;
    this.live = live;
  }

  /**
   * What {@code GET /api/models} answers: the lifecycle's view, and {@code live}: per version, its
   * live accuracy on labelled outcomes ({@code GET /api/outcomes}'s figures; empty while the
   * outcomes join starts).
   */
  public record Answer(@JsonUnwrapped ModelView models, Map<Long, Map<String, Object>> live) {}

  @GET
  @Operation(
      summary = "Model versions, the champion, what serves",
      description =
          "Every known version with its metrics, gate results and status (CHAMPION, PROMOTED,"
              + " REJECTED, SHADOW, CANARY, ROLLED_BACK, CANDIDATE, SUPERSEDED, EPOCH, FAILED),"
              + " the policy, the pin, the canary, the control history, and `live`: per version,"
              + " its live accuracy on labelled outcomes.")
  @APIResponse(
      responseCode = "200",
      description = "The models",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "following",
                      value =
                          "{\"policy\": \"gated\", \"mode\": \"FOLLOWING\", \"serving\": 12, \"pinned\": null,"
                              + " \"champion\": 12, \"caughtUp\": true, \"replica\": \"inference-1\","
                              + " \"reloads\": 3, \"versions\": [{\"version\": 12, \"runId\": \"my-run\","
                              + " \"status\": \"CHAMPION\", \"serving\": true, \"activatable\": true}],"
                              + " \"canary\": null, \"rejected\": [], \"history\": [{\"type\":"
                              + " \"PROMOTED\", \"version\": 12}], \"refusedControl\": [], \"live\":"
                              + " {\"12\": {\"modelVersion\": 12, \"labelled\": 40, \"correct\": 39,"
                              + " \"accuracy\": 0.975}}}")))
  public Answer list() {
    Map<Long, Map<String, Object>> figures = new TreeMap<>();
    live.byVersion().ifPresent(m -> m.forEach((v, a) -> figures.put(v, OutcomesResource.view(a))));
    return new Answer(models.view(), figures);
  }

  @POST
  @Mutating
  @RolesAllowed(Roles.OPERATOR)
  @Path("/{version}/activate")
  @Operation(
      summary = "Pin a version on every replica (API token)",
      description =
          "Rollback or roll-forward: written to `model.control`, so every replica (and every later"
              + " one) serves it; answers once it serves here, with the new state. Needs"
              + " `Content-Type: application/json` (an empty body is fine).")
  @APIResponse(
      responseCode = "200",
      description = "It serves here; the new state (as GET /api/models, without `live`)",
      content = @Content(mediaType = MediaType.APPLICATION_JSON))
  @APIResponse(responseCode = "404", description = "An unknown version")
  @APIResponse(
      responseCode = "409",
      description = "It cannot serve (it failed to load, or its parameters were evicted)")
  @APIResponse(responseCode = "415", description = "The request is not JSON")
  @RequestBody(
      description = "None needed; the request must be JSON (`Content-Type: application/json`)",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "empty", value = "{}")))
  public ModelView activate(
      @Parameter(description = "The version to serve", example = "7") @PathParam("version")
          long version) {
    models.activate(version, config.activateTimeout());
    return models.view();
  }

  @POST
  @Mutating
  @RolesAllowed(Roles.OPERATOR)
  @Path("/follow")
  @Operation(
      summary = "Drop the pin: serve the champion again (API token)",
      description =
          "Written to `model.control`, so every replica follows the policy again; answers once"
              + " this replica serves the result, with the new state.")
  @APIResponse(
      responseCode = "200",
      description = "The new state (as GET /api/models, without `live`)",
      content = @Content(mediaType = MediaType.APPLICATION_JSON))
  @APIResponse(responseCode = "415", description = "The request is not JSON")
  @RequestBody(
      description = "None needed; the request must be JSON (`Content-Type: application/json`)",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples = @ExampleObject(name = "empty", value = "{}")))
  public ModelView follow() {
    models.follow(config.activateTimeout());
    return models.view();
  }
}
