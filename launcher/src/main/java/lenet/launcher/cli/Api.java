package lenet.launcher.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import lenet.launcher.PipelineSettings;

/**
 * The services' HTTP APIs as the CLI calls them, on 127.0.0.1 and the ports {@code ./pipeline up}
 * uses; requests that change state carry the API token ({@code API_TOKEN}, else the file {@code up}
 * keeps in {@code $PIPELINE_RUN/api-token}).
 */
final class Api {

  /** A service's answer: its status and body. */
  record Answer(int status, String body) {

    boolean ok() {
      return status / 100 == 2;
    }

    Object json() {
      return Json.parse(body);
    }

    /** The {@code error} a service answers with, else the status and body. */
    String error() {
      try {
        Object e = Json.object(json()).get("error");
        if (e != null) {
          return "HTTP " + status + ": " + e;
        }
      } catch (IllegalArgumentException notJson) {
        // the body as it is
      }
      return "HTTP " + status + (body.isBlank() ? "" : ": " + body.strip());
    }
  }

  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final PipelineSettings settings;

  Api(PipelineSettings settings) {
    this.settings = settings;
  }

  Answer get(String service, String path) {
    return send(service, request(service, path).GET());
  }

  /** A JSON POST to an endpoint that changes state: with the token. */
  Answer operatorPost(String service, String path, String json) {
    return send(
        service,
        request(service, path)
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + token())
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  Answer operatorDelete(String service, String path) {
    return send(
        service, request(service, path).header("Authorization", "Bearer " + token()).DELETE());
  }

  Answer post(String service, String path, String contentType, byte[] body) {
    return send(
        service,
        request(service, path)
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  /**
   * Reads the trainer's server-sent events, handing each event's data to {@code onData} until it
   * answers false or the stream ends.
   */
  void events(Predicate<String> onData) {
    HttpRequest request =
        HttpRequest.newBuilder(uri("trainer", "/api/runs/events"))
            .header("Accept", "text/event-stream")
            .build();
    HttpResponse<Stream<String>> r;
    try {
      r = CLIENT.send(request, HttpResponse.BodyHandlers.ofLines());
    } catch (IOException e) {
      throw unreachable("trainer", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted", 130);
    }
    try (Stream<String> lines = r.body()) {
      if (r.statusCode() / 100 != 2) {
        throw new CliException(
            "the trainer's event stream: "
                + new Answer(r.statusCode(), String.join("\n", lines.toList())).error(),
            1);
      }
      var it = lines.iterator();
      while (it.hasNext()) {
        String line = it.next();
        if (line.startsWith("data:") && !onData.test(line.substring(5).strip())) {
          return;
        }
      }
    } catch (UncheckedIOException e) {
      throw new CliException("the trainer's event stream ended: " + e.getCause().getMessage(), 1);
    }
  }

  /** {@code API_TOKEN}, else {@code $PIPELINE_RUN/api-token}. */
  String token() {
    Map<String, String> env = settings.env();
    String given = env.getOrDefault("API_TOKEN", "");
    if (!given.isEmpty()) {
      return given;
    }
    Path file = settings.run().resolve("api-token");
    try {
      return Files.readString(file).trim();
    } catch (IOException e) {
      throw new CliException(
          "no API token: "
              + file
              + " cannot be read ("
              + e.getClass().getSimpleName()
              + "); ./pipeline up creates it, or set API_TOKEN",
          1);
    }
  }

  private HttpRequest.Builder request(String service, String path) {
    return HttpRequest.newBuilder(uri(service, path)).timeout(Duration.ofSeconds(30));
  }

  private URI uri(String service, String path) {
    return URI.create("http://127.0.0.1:" + settings.port(service) + path);
  }

  private Answer send(String service, HttpRequest.Builder request) {
    try {
      HttpResponse<String> r = CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body());
    } catch (IOException e) {
      throw unreachable(service, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted", 130);
    }
  }

  private CliException unreachable(String service, IOException e) {
    String why = e instanceof ConnectException ? "nothing answers" : e.toString();
    return new CliException(
        "the "
            + service
            + " service on 127.0.0.1:"
            + settings.port(service)
            + ": "
            + why
            + " (is the pipeline up? ./pipeline status; ports: "
            + service.toUpperCase()
            + "_PORT)",
        1);
  }
}
