package lenet.inference.rest;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Arrays;
import java.util.UUID;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;
import lenet.inference.config.InferenceConfig;
import lenet.inference.image.DigitImages;
import lenet.inference.scoring.HttpBatcher;

/**
 * {@code POST /api/predict}: one image in, one prediction out. The body is a PNG or JPEG, JSON in
 * the image event's shape ({@code {"pixels": [784 values]}} or {@code {"png": "base64"}}, optional
 * {@code id}), or the 784 pixels as raw bytes ({@code application/x-mnist-u8}, or {@code
 * application/octet-stream} of exactly 784 bytes without an image signature).
 */
@Path("/api/predict")
@Produces(MediaType.APPLICATION_JSON)
public class PredictResource {

  private final HttpBatcher batcher;
  private final InferenceConfig config;
  private final HttpAdmission admission;

  PredictResource(HttpBatcher batcher, InferenceConfig config, HttpAdmission admission) {
    this.batcher = batcher;
    this.config = config;
    this.admission = admission;
  }

  @POST
  @Consumes({"image/png", "image/jpeg", "image/*"})
  public Prediction image(byte[] body) {
    return score(ImageEvent.ofEncoded(UUID.randomUUID().toString(), checkedImage(body)));
  }

  /** Raw pixels, exactly 784 bytes; a wrong size is a 400 naming it. */
  @POST
  @Consumes(ImageEvent.RAW_CONTENT_TYPE)
  public Prediction raw(byte[] body) {
    return score(ImageEvent.ofRaw(UUID.randomUUID().toString(), body));
  }

  /**
   * Bytes of unknown kind: exactly 784 bytes without an image signature (PNG, JPEG, GIF, BMP) are
   * the raw pixels; anything else is read as an image (and refused as one when it is not).
   */
  @POST
  @Consumes(MediaType.APPLICATION_OCTET_STREAM)
  public Prediction bytes(byte[] body) {
    return body != null && body.length == ImageEvent.PIXELS && !hasImageSignature(body)
        ? raw(body)
        : image(body);
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  public Prediction json(byte[] body) {
    return score(ImageEvent.decode(body, null, config.maxImageBytes()));
  }

  private byte[] checkedImage(byte[] body) {
    if (body == null || body.length == 0) {
      throw new WireFormatException(Reason.EMPTY, "the request body holds no image");
    }
    if (body.length > config.maxImageBytes()) {
      throw new WireFormatException(
          Reason.TOO_LARGE,
          "the image is " + body.length + " bytes, the limit is " + config.maxImageBytes());
    }
    return body;
  }

  /** The signatures of the formats the JDK decodes: PNG, JPEG, GIF, BMP. */
  private static final byte[][] IMAGE_SIGNATURES = {
    {(byte) 0x89, 'P', 'N', 'G'},
    {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF},
    {'G', 'I', 'F', '8'},
    {'B', 'M'}
  };

  static boolean hasImageSignature(byte[] body) {
    if (body == null) {
      return false;
    }
    for (byte[] signature : IMAGE_SIGNATURES) {
      if (body.length >= signature.length
          && Arrays.equals(body, 0, signature.length, signature, 0, signature.length)) {
        return true;
      }
    }
    return false;
  }

  private Prediction score(ImageEvent event) {
    return admission.admit(
        () -> {
          float[] row = DigitImages.toInput(event, config.maxImagePixels());
          return batcher.predict(event.id(), row);
        });
  }
}
