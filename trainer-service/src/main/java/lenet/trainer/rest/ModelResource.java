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
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The network the trainer builds, as the Keras summary shows it, and the device it trains on. */
@Path("/api/model")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Model", description = "The network the trainer builds")
public class ModelResource {

  private final TrainerConfig config;
  private final NetworkSummary network;

  ModelResource(TrainerConfig config, NetworkSummary network) {
    this.config = config;
    this.network = network;
  }

  /** Built once on the training thread (see {@link NetworkSummary} for why not here). */
  @GET
  @Operation(
      summary = "The network, as the Keras summary shows it",
      description =
          "Layers with their output shapes and parameter counts, the totals, the summary as a"
              + " table, and the device training runs on (cpu() or gpu(0)).")
  @APIResponse(
      responseCode = "200",
      description = "The summary",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              examples =
                  @ExampleObject(
                      name = "LeNet-5",
                      value =
                          "{\"architectureId\": \"lenet5-bn-keras-v1\", \"totalParameters\": 62698,"
                              + " \"trainableParameters\": 62202, \"nonTrainableParameters\": 496,"
                              + " \"layers\": [{\"layer\": \"conv2d\", \"outputShape\": \"(None,"
                              + " 28, 28, 6)\", \"parameters\": 156}], \"summary\": \"...\","
                              + " \"device\": \"cpu()\"}")))
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
