package lenet.inference.rest;

import io.opentelemetry.api.trace.Span;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;
import lenet.inference.config.InferenceConfig;
import lenet.inference.feedback.HttpPredictionLog;
import lenet.inference.image.ImageDecoder;
import lenet.inference.scoring.HttpBatcher;

/**
 * {@code POST /api/predict}: one image in, one prediction out. The body is a PNG or JPEG, JSON in
 * the image event's shape ({@code {"pixels": [784 values]}} or {@code {"png": "base64"}}, optional
 * {@code id}), or the 784 pixels as raw bytes ({@code application/x-mnist-u8}, or {@code
 * application/octet-stream} of exactly 784 bytes without an image signature).
 *
 * <p>Non-blocking: a small body (a pixel event is ~3 KB, read in microseconds) is read on the event
 * loop and handed to the {@link HttpBatcher}; images and larger bodies are read and decoded on the
 * {@link ImageDecoder}'s threads. No request thread waits for the model, so a prediction costs two
 * thread hand-offs (to the batcher and back), not four.
 */
@Path("/api/predict")
@Produces(MediaType.APPLICATION_JSON)
public class PredictResource {

  private final HttpBatcher batcher;
  private final InferenceConfig config;
  private final HttpAdmission admission;
  private final ImageDecoder decoder;
  private final HttpPredictionLog log;

  PredictResource(
      HttpBatcher batcher,
      InferenceConfig config,
      HttpAdmission admission,
      ImageDecoder decoder,
      HttpPredictionLog log) {
    this.batcher = batcher;
    this.log = log;
    this.config = config;
    this.admission = admission;
    this.decoder = decoder;
  }

  /** Bodies up to this size are read on the event loop; larger ones on a decoder thread. */
  static final int INLINE_BYTES = 16 * 1024;

  @POST
  @Consumes({"image/png", "image/jpeg", "image/*"})
  public CompletionStage<Prediction> image(byte[] body) {
    byte[] image = checkedImage(body);
    return score(
        () -> ImageEvent.ofEncoded(UUID.randomUUID().toString(), image), Integer.MAX_VALUE);
  }

  /** Raw pixels, exactly 784 bytes; a wrong size is a 400 naming it. */
  @POST
  @Consumes(ImageEvent.RAW_CONTENT_TYPE)
  public CompletionStage<Prediction> raw(byte[] body) {
    return score(() -> ImageEvent.ofRaw(UUID.randomUUID().toString(), body), length(body));
  }

  /**
   * Bytes of unknown kind: exactly 784 bytes without an image signature (PNG, JPEG, GIF, BMP) are
   * the raw pixels; anything else is read as an image (and refused as one when it is not).
   */
  @POST
  @Consumes(MediaType.APPLICATION_OCTET_STREAM)
  public CompletionStage<Prediction> bytes(byte[] body) {
    return body != null && body.length == ImageEvent.PIXELS && !hasImageSignature(body)
        ? raw(body)
        : image(body);
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  public CompletionStage<Prediction> json(byte[] body) {
    return score(() -> ImageEvent.decode(body, null, config.maxImageBytes()), length(body));
  }

  private static int length(byte[] body) {
    return body == null ? 0 : body.length;
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

  /**
   * Admits the request, reads its image ({@code read}) where its size says, and answers once the
   * batcher has scored it; a refusal thrown on the event loop is answered at once.
   */
  private CompletionStage<Prediction> score(Supplier<ImageEvent> read, int bodyBytes) {
    return admission.admit(
        HttpAdmission.Kind.IMAGE,
        () -> {
          if (bodyBytes <= INLINE_BYTES) {
            ImageEvent event = read.get();
            if (event.pixels() != null) {
              return predict(ImageDecoder.pixels(event));
            }
            return predict(decoder.decode(() -> event));
          }
          return predict(decoder.decode(read));
        });
  }

  /** The prediction of a decoded input; a failure of either step completes it exceptionally. */
  private CompletableFuture<Prediction> predict(CompletableFuture<ImageDecoder.Input> decoded) {
    return decoded.thenCompose(this::predict);
  }

  /** Scores one input; its answer is also logged to Kafka, off the answer's path. */
  private CompletableFuture<Prediction> predict(ImageDecoder.Input input) {
    Span request = Span.current(); // the request's server span (invalid when tracing is off)
    return batcher
        .submit(input.id(), input.row())
        .whenComplete(
            (prediction, error) -> {
              if (prediction != null) {
                request.setAttribute("lenet.event.id", prediction.id());
                request.setAttribute("lenet.model.version", prediction.modelVersion());
                log.log(prediction, input.row(), request.getSpanContext());
              }
            });
  }
}
