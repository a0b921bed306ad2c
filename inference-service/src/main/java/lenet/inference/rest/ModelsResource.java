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

/**
 * The model versions this replica knows, the champion, the pin and the one that serves. {@code POST
 * /api/models/{v}/activate} pins a version (rollback or roll-forward); {@code POST
 * /api/models/follow} drops the pin and serves the champion again. Both are written to the control
 * topic, so every replica (and every later one) applies them; they answer once this replica serves
 * the result, with the new state. Both need the API token and a JSON request ({@link Mutating}).
 */
@Path("/api/models")
@Produces(MediaType.APPLICATION_JSON)
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
  public Answer list() {
    Map<Long, Map<String, Object>> figures = new TreeMap<>();
    live.byVersion().ifPresent(m -> m.forEach((v, a) -> figures.put(v, OutcomesResource.view(a))));
    return new Answer(models.view(), figures);
  }

  @POST
  @Mutating
  @RolesAllowed(Roles.OPERATOR)
  @Path("/{version}/activate")
  public ModelView activate(@PathParam("version") long version) {
    models.activate(version, config.activateTimeout());
    return models.view();
  }

  @POST
  @Mutating
  @RolesAllowed(Roles.OPERATOR)
  @Path("/follow")
  public ModelView follow() {
    models.follow(config.activateTimeout());
    return models.view();
  }
}
