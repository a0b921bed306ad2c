package lenet.launcher;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** When a started process counts as ready: what {@link Launched#awaitReady} waits for. */
public sealed interface Readiness {

  /** Whether the process is ready now; {@code log} is its log, headed by the launcher per start. */
  boolean isReady(Path log);

  /** Ready as soon as it runs. */
  Readiness STARTED = new Started();

  /** Ready once it printed a line starting with {@code prefix} since its last start. */
  static Readiness logLine(String prefix) {
    return new LogLine(prefix);
  }

  /** Ready once a GET of {@code uri} answers 2xx (a Quarkus service's {@code /q/health/live}). */
  static Readiness http(URI uri) {
    return new Http(uri);
  }

  /** Always ready. */
  record Started() implements Readiness {
    @Override
    public boolean isReady(Path log) {
      return true;
    }
  }

  /**
   * A line starting with {@code prefix} after the last {@link Launcher#HEADER} line (an older
   * start's READY does not count), as local-kafka prints {@code READY} once clients can connect.
   */
  record LogLine(String prefix) implements Readiness {
    @Override
    public boolean isReady(Path log) {
      List<String> lines;
      try {
        lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
      } catch (NoSuchFileException e) {
        return false;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      for (int i = lines.size() - 1; i >= 0; i--) {
        String line = lines.get(i);
        if (line.startsWith(Launcher.HEADER)) {
          return false;
        }
        if (line.startsWith(prefix)) {
          return true;
        }
      }
      return false;
    }
  }

  /** A GET answered 2xx within 5 s. */
  record Http(URI uri) implements Readiness {
    private static final HttpClient CLIENT =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Override
    public boolean isReady(Path log) {
      try {
        int status =
            CLIENT
                .send(
                    HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode();
        return status / 100 == 2;
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }
}
