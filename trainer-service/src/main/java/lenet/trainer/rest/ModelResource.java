package lenet.trainer.rest;

import ai.djl.ndarray.NDManager;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;
import lenet.contract.model.LeNet5;
import lenet.trainer.TrainerConfig;
import lenet.trainer.training.Training;

/** The network the trainer builds, as the Keras summary shows it, and the device it trains on. */
@Path("/api/model")
@Produces(MediaType.APPLICATION_JSON)
public class ModelResource {

  private final TrainerConfig config;

  ModelResource(TrainerConfig config) {
    this.config = config;
  }

  @GET
  public Map<String, Object> summary() {
    try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
      LeNet5.Summary s = LeNet5.summary(manager);
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
}
