package lenet.trainer.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;
import lenet.model.LeNet5;
import lenet.trainer.TrainerConfig;
import lenet.trainer.training.NetworkSummary;
import lenet.trainer.training.Training;

/** The network the trainer builds, as the Keras summary shows it, and the device it trains on. */
@Path("/api/model")
@Produces(MediaType.APPLICATION_JSON)
public class ModelResource {

  private final TrainerConfig config;
  private final NetworkSummary network;

  ModelResource(TrainerConfig config, NetworkSummary network) {
    this.config = config;
    this.network = network;
  }

  /** Built once on the training thread (see {@link NetworkSummary} for why not here). */
  @GET
  public Map<String, Object> summary() {
    LeNet5.Summary s = network.get();
    return Map.of(
        "architectureId", LeNet5.ARCHITECTURE_ID,
        "layers", s.rows(),
        "totalParameters", s.total(),
        "trainableParameters", s.trainable(),
        "nonTrainableParameters", s.nonTrainable(),
        "summary", s.table(),
        "device", Training.device(config.device()).toString());
  }
}
