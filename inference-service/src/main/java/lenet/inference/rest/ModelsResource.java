package lenet.inference.rest;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import lenet.inference.config.InferenceConfig;
import lenet.inference.model.ModelManager;
import lenet.inference.model.ModelView;
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

  ModelsResource(ModelManager models, InferenceConfig config) {
    this.models = models;
    this.config = config;
  }

  @GET
  public ModelView list() {
    return models.view();
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
