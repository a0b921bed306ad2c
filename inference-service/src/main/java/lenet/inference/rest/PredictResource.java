package lenet.inference.rest;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.UUID;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;
import lenet.inference.config.InferenceConfig;
import lenet.inference.image.DigitImages;
import lenet.inference.scoring.Scorer;

/**
 * {@code POST /api/predict}: one image in, one prediction out. The body is a PNG or JPEG, or JSON
 * in the image event's shape ({@code {"pixels": [784 values]}} or {@code {"png": "base64"}},
 * optional {@code id}).
 */
@Path("/api/predict")
@Produces(MediaType.APPLICATION_JSON)
public class PredictResource {

  private final Scorer scorer;
  private final InferenceConfig config;

  PredictResource(Scorer scorer, InferenceConfig config) {
    this.scorer = scorer;
    this.config = config;
  }

  @POST
  @Consumes({"image/png", "image/jpeg", "image/*", MediaType.APPLICATION_OCTET_STREAM})
  public Prediction image(byte[] body) {
    if (body == null || body.length == 0) {
      throw new WireFormatException(Reason.EMPTY, "the request body holds no image");
    }
    if (body.length > config.maxImageBytes()) {
      throw new WireFormatException(
          Reason.TOO_LARGE,
          "the image is " + body.length + " bytes, the limit is " + config.maxImageBytes());
    }
    return score(ImageEvent.ofEncoded(UUID.randomUUID().toString(), body));
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  public Prediction json(byte[] body) {
    return score(ImageEvent.decode(body, null, config.maxImageBytes()));
  }

  private Prediction score(ImageEvent event) {
    float[] row = DigitImages.toInput(event, config.maxImagePixels());
    return scorer.predict(List.of(event.id()), new float[][] {row}, Scorer.Source.HTTP).get(0);
  }
}
