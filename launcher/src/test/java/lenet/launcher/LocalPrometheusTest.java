package lenet.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus {@code ./pipeline up} starts, for real (skipped, saying so, where {@code
 * prometheus} is not installed): it reads the config the launcher writes, loads the pipeline's
 * rules file and scrapes a service's {@code /q/metrics} under the job name the alerts expect. A
 * small HTTP server stands in for the service.
 */
class LocalPrometheusTest {

  @TempDir Path dir;

  @Test
  void scrapesTheServicesWithThePipelinesAlertsLoaded() throws Exception {
    Optional<Path> binary = LocalPrometheus.onPath();
    Assumptions.assumeTrue(
        binary.isPresent(), "SKIPPED: no prometheus on the PATH (apt-get install prometheus)");
    HttpServer service = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    service.createContext(
        "/q/metrics",
        exchange -> {
          byte[] body = "# TYPE inference_kafka_up gauge\ninference_kafka_up 1.0\n".getBytes();
          exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    service.start();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    LocalPrometheus local = new LocalPrometheus(binary.get(), port, dir.resolve("prometheus"));
    Path rules = Path.of("..", "monitoring", "alerts.yml").toAbsolutePath().normalize();
    Launched prometheus =
        Launcher.start(
            local.component(
                "prometheus",
                Map.of("inference-service", service.getAddress().getPort()),
                rules,
                "1s",
                dir.resolve("prometheus.log")));
    try {
      prometheus.awaitReady(Duration.ofSeconds(60));
      String scraped = "";
      for (int i = 0; i < 60 && !scraped.contains("\"1\""); i++) {
        Thread.sleep(500);
        scraped =
            get(
                local,
                "api/v1/query?query=" + encode("inference_kafka_up{job=\"inference-service\"}"));
      }
      assertThat(scraped).as("the service's gauge, scraped under its job").contains("\"1\"");
      assertThat(get(local, "api/v1/rules"))
          .contains("LenetBrokerUnreachable", "LenetConsumerLagGrowing")
          .doesNotContain("\"health\":\"err\"");
    } finally {
      prometheus.stop(Duration.ofSeconds(10));
      service.stop(0);
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String get(LocalPrometheus p, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(p.url() + path)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
