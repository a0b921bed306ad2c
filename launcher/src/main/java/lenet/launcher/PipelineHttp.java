package lenet.launcher;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The few HTTP calls {@code ./pipeline} makes to its own services on 127.0.0.1, and the one JSON
 * field it reads from each answer (the first {@code "name": value}; the answers are the services'
 * own, small and flat where read).
 */
final class PipelineHttp {

  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private PipelineHttp() {}

  /** The body of a 2xx answer to GET {@code http://127.0.0.1:port/path}; empty otherwise. */
  static Optional<String> get(int port, String path) {
    return send(HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(10)).build());
  }

  /** POSTs JSON with the API token; the body of a 2xx answer, empty otherwise. */
  static Optional<String> post(int port, String path, String json, String token) {
    return send(
        HttpRequest.newBuilder(uri(port, path))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + token)
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build());
  }

  /** The first {@code "name":value} in {@code json}, quotes removed. */
  static Optional<String> field(String json, String name) {
    Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":([^,}]*)").matcher(json);
    return m.find() ? Optional.of(m.group(1).replace("\"", "").trim()) : Optional.empty();
  }

  static Optional<String> field(int port, String path, String name) {
    return get(port, path).flatMap(body -> field(body, name));
  }

  private static URI uri(int port, String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private static Optional<String> send(HttpRequest request) {
    try {
      HttpResponse<String> r = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      return r.statusCode() / 100 == 2 ? Optional.of(r.body()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }
}
