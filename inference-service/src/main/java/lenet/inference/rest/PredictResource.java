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
import lenet.service.api.ApiError;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

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
@Tag(name = "Predict", description = "One digit in, its prediction out")
@APIResponse(
    responseCode = "200",
    description = "The prediction: the digit, its probability, all ten, the model version",
    content =
        @Content(
            mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = Prediction.class),
            examples = @ExampleObject(name = "a seven", value = ApiExamples.PREDICTION)))
@APIResponse(
    responseCode = "400",
    description =
        "Bad input, and why: MALFORMED_JSON, WRONG_PIXEL_COUNT, VALUE_OUT_OF_RANGE,"
            + " UNDECODABLE_IMAGE, EMPTY, ...",
    content =
        @Content(
            mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = ApiError.class),
            examples =
                @ExampleObject(
                    name = "783 pixels",
                    value =
                        "{\"error\": \"'pixels' must hold 784 values, it holds 783\","
                            + " \"reason\": \"WRONG_PIXEL_COUNT\"}")))
@APIResponse(
    responseCode = "413",
    description = "Above 2 MiB, or an image above 2,000,000 pixels",
    content = @Content(schema = @Schema(implementation = ApiError.class)))
@APIResponse(responseCode = "415", description = "Another content type")
@APIResponse(
    responseCode = "503",
    description = "No model serves yet, or too many requests wait; retry after `Retry-After`",
    content = @Content(schema = @Schema(implementation = ApiError.class)))
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
  @Operation(summary = "Predict one digit", description = ApiExamples.PREDICT_DESCRIPTION)
  @RequestBody(
      required = true,
      content = {
        @Content(
            mediaType = "image/png",
            schema = @Schema(type = SchemaType.STRING, format = "binary"),
            examples =
                @ExampleObject(
                    name = "seven.png",
                    summary = "MNIST test image #0, a 7, as a PNG",
                    externalValue = ApiExamples.PNG_FILE)),
        @Content(
            mediaType = "image/jpeg",
            schema = @Schema(type = SchemaType.STRING, format = "binary"))
      })
  public CompletionStage<Prediction> image(byte[] body) {
    byte[] image = checkedImage(body);
    return score(
        () -> ImageEvent.ofEncoded(UUID.randomUUID().toString(), image), Integer.MAX_VALUE);
  }

  /** Raw pixels, exactly 784 bytes; a wrong size is a 400 naming it. */
  @POST
  @Consumes(ImageEvent.RAW_CONTENT_TYPE)
  @Operation(summary = "Predict one digit", description = ApiExamples.PREDICT_DESCRIPTION)
  @RequestBody(
      required = true,
      content =
          @Content(
              mediaType = ImageEvent.RAW_CONTENT_TYPE,
              schema = @Schema(type = SchemaType.STRING, format = "binary"),
              examples =
                  @ExampleObject(
                      name = "seven.u8",
                      summary = "MNIST test image #0, a 7: its 784 pixels as bytes",
                      externalValue = ApiExamples.RAW_FILE)))
  public CompletionStage<Prediction> raw(byte[] body) {
    return score(() -> ImageEvent.ofRaw(UUID.randomUUID().toString(), body), length(body));
  }

  /**
   * Bytes of unknown kind: exactly 784 bytes without an image signature (PNG, JPEG, GIF, BMP) are
   * the raw pixels; anything else is read as an image (and refused as one when it is not).
   */
  @POST
  @Consumes(MediaType.APPLICATION_OCTET_STREAM)
  @Operation(summary = "Predict one digit", description = ApiExamples.PREDICT_DESCRIPTION)
  @RequestBody(
      required = true,
      content =
          @Content(
              mediaType = MediaType.APPLICATION_OCTET_STREAM,
              schema = @Schema(type = SchemaType.STRING, format = "binary"),
              examples = {
                @ExampleObject(
                    name = "seven.u8",
                    summary = "784 bytes without an image signature: the raw pixels",
                    externalValue = ApiExamples.RAW_FILE),
                @ExampleObject(
                    name = "seven.png",
                    summary = "Anything else: an image",
                    externalValue = ApiExamples.PNG_FILE)
              }))
  public CompletionStage<Prediction> bytes(byte[] body) {
    return body != null && body.length == ImageEvent.PIXELS && !hasImageSignature(body)
        ? raw(body)
        : image(body);
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Predict one digit", description = ApiExamples.PREDICT_DESCRIPTION)
  @RequestBody(
      required = true,
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = ImageEventBody.class),
              examples = {
                @ExampleObject(
                    name = "pixels",
                    summary = "MNIST test image #0, a 7: 784 pixels",
                    value = ApiExamples.PIXELS_EVENT),
                @ExampleObject(
                    name = "png",
                    summary = "The same digit as a base64 PNG",
                    value = ApiExamples.PNG_EVENT)
              }))
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
