package lenet.inference.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import lenet.inference.config.InferenceConfig;
import lenet.inference.model.ModelManager;

/**
 * The model versions this replica knows and the one that serves. {@code POST
 * /api/models/{v}/activate} pins a version (rollback); {@code POST /api/models/follow} drops the
 * pin and serves what the policy selects again. Both answer once the model serves, with the new
 * state. A pin lives in this replica's memory only.
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
  public ModelManager.View list() {
    return models.view();
  }

  @POST
  @Path("/{version}/activate")
  public ModelManager.View activate(@PathParam("version") long version) {
    models.activate(version, config.activateTimeout());
    return models.view();
  }

  @POST
  @Path("/follow")
  public ModelManager.View follow() {
    models.follow(config.activateTimeout());
    return models.view();
  }
}
