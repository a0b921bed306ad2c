package lenet.ingest;

import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import lenet.contract.dataset.MnistSet;
import lenet.mnist.MnistFiles;
import lenet.mnist.MnistFormatException;
import lenet.service.api.ApiError;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Sample digits per class for the page: the first images of each class in the training file, raw
 * pixels as stored (28x28 bytes, white on black), base64. Read once and kept (a few hundred KB).
 */
@Path("/api/datasets/mnist/samples")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Dataset")
public class SamplesResource {

  static final int MAX_PER_CLASS = 32;

  /** One class: its digit, where its samples are in the file, and their pixels. */
  @Schema(description = "The first samples of one digit in the training file")
  public record ClassSamples(
      int digit,
      @Schema(description = "Their indices in the file") List<Integer> indices,
      @Schema(description = "Their pixels: 784 bytes each (28x28, white on black), base64")
          List<String> pixels) {}

  @Schema(description = "Sample digits per class")
  public record Samples(String file, int perClass, List<ClassSamples> classes) {}

  private final IngestConfig config;
  private volatile Samples all;

  SamplesResource(IngestConfig config) {
    this.config = config;
  }

  @GET
  @Operation(
      summary = "Sample digits per class",
      description =
          "The first `perClass` images of each digit in the training file, raw pixels as stored.")
  @APIResponse(
      responseCode = "200",
      description = "The samples",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = Samples.class),
              examples =
                  @ExampleObject(
                      name = "one per class",
                      value =
                          "{\"file\": \"train-images-idx3-ubyte\", \"perClass\": 1, \"classes\":"
                              + " [{\"digit\": 0, \"indices\": [1], \"pixels\":"
                              + " [\"AAAA...784 bytes, base64...\"]}]}")))
  @APIResponse(
      responseCode = "400",
      description = "perClass is not a number in 1..32",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  @APIResponse(
      responseCode = "503",
      description = "The MNIST files cannot be read yet",
      content = @Content(schema = @Schema(implementation = ApiError.class)))
  public Response samples(
      @Parameter(description = "Samples per digit, 1..32", example = "8")
          @QueryParam("perClass")
          @DefaultValue("8")
          String perClassParam) {
    int perClass;
    try {
      perClass = Integer.parseInt(perClassParam.strip());
    } catch (NumberFormatException e) {
      return error(400, "perClass must be a whole number in 1.." + MAX_PER_CLASS);
    }
    if (perClass < 1 || perClass > MAX_PER_CLASS) {
      return error(400, "perClass must be in 1.." + MAX_PER_CLASS + ", got " + perClass);
    }
    Samples loaded;
    try {
      loaded = load();
    } catch (MnistFormatException e) {
      return error(503, "the MNIST files cannot be read yet: " + e.getMessage());
    }
    List<ClassSamples> classes =
        loaded.classes().stream()
            .map(
                c ->
                    new ClassSamples(
                        c.digit(),
                        c.indices().subList(0, Math.min(perClass, c.indices().size())),
                        c.pixels().subList(0, Math.min(perClass, c.pixels().size()))))
            .toList();
    return Response.ok(new Samples(loaded.file(), perClass, classes)).build();
  }

  private Samples load() {
    Samples s = all;
    if (s == null) {
      synchronized (this) {
        if (all == null) {
          all = read();
        }
        s = all;
      }
    }
    return s;
  }

  private Samples read() {
    MnistSet train =
        new MnistFiles(java.nio.file.Path.of(config.dataDir()), config.verifyChecksums()).train();
    List<List<Integer>> indices = new ArrayList<>();
    List<List<String>> pixels = new ArrayList<>();
    for (int d = 0; d < 10; d++) {
      indices.add(new ArrayList<>());
      pixels.add(new ArrayList<>());
    }
    Base64.Encoder b64 = Base64.getEncoder();
    for (int i = 0; i < train.count(); i++) {
      int digit = train.labels()[i];
      if (indices.get(digit).size() < MAX_PER_CLASS) {
        indices.get(digit).add(i);
        int from = i * MnistSet.IMAGE_BYTES;
        pixels
            .get(digit)
            .add(
                b64.encodeToString(
                    Arrays.copyOfRange(train.images(), from, from + MnistSet.IMAGE_BYTES)));
      }
    }
    List<ClassSamples> classes = new ArrayList<>();
    for (int d = 0; d < 10; d++) {
      classes.add(new ClassSamples(d, List.copyOf(indices.get(d)), List.copyOf(pixels.get(d))));
    }
    return new Samples(MnistFiles.TRAIN_IMAGES, MAX_PER_CLASS, List.copyOf(classes));
  }

  private static Response error(int status, String message) {
    return Response.status(status)
        .type(MediaType.APPLICATION_JSON)
        .entity(Map.of("error", message))
        .build();
  }
}
