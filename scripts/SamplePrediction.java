import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.StringJoiner;

/**
 * Sends one real MNIST test digit to the inference service and prints the answer beside the true label. Run as a
 * single-file program: {@code java scripts/SamplePrediction.java data/mnist http://127.0.0.1:8080 [index]}.
 */
public class SamplePrediction {
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int index = args.length > 2 ? Integer.parseInt(args[2]) : 0;
    byte[] images = Files.readAllBytes(dir.resolve("t10k-images-idx3-ubyte"));
    byte[] labels = Files.readAllBytes(dir.resolve("t10k-labels-idx1-ubyte"));
    StringJoiner pixels = new StringJoiner(",", "{\"id\":\"mnist-test-" + index + "\",\"pixels\":[", "]}");
    for (int p = 0; p < 784; p++) {
      pixels.add(Integer.toString(images[16 + index * 784 + p] & 0xFF));
    }
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(args[1] + "/api/predict"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(pixels.toString()))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    System.out.println("  Sample: MNIST test image #" + index + " (true label " + labels[8 + index] + ")");
    System.out.println("    curl -H 'Content-Type: application/json' -d '{\"pixels\": [...784 values...]}' "
        + args[1] + "/api/predict");
    System.out.println("    -> HTTP " + response.statusCode() + " " + response.body());
  }
}
