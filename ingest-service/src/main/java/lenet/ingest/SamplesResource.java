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

/**
 * Sample digits per class for the page: the first images of each class in the training file, raw
 * pixels as stored (28x28 bytes, white on black), base64. Read once and kept (a few hundred KB).
 */
@Path("/api/datasets/mnist/samples")
@Produces(MediaType.APPLICATION_JSON)
public class SamplesResource {

  static final int MAX_PER_CLASS = 32;

  /** One class: its digit, where its samples are in the file, and their pixels. */
  public record ClassSamples(int digit, List<Integer> indices, List<String> pixels) {}

  public record Samples(String file, int perClass, List<ClassSamples> classes) {}

  private final IngestConfig config;
  private volatile Samples all;

  SamplesResource(IngestConfig config) {
    this.config = config;
  }

  @GET
  public Response samples(@QueryParam("perClass") @DefaultValue("8") String perClassParam) {
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
