package lenet.launcher;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Prometheus server of this machine's ({@code prometheus} on the PATH: Debian's package, 2.42+)
 * scraping the local services and evaluating the pipeline's alerts ({@code monitoring/alerts.yml}):
 * its config and its storage in {@code dir}, its HTTP on 127.0.0.1:{@code port}, ready once {@code
 * /-/ready} answers. Its jobs are named as the Kubernetes Services are (ingest-service, ...), which
 * the alerts and the dashboard expect. {@code ./pipeline up} and the end-to-end tests start it.
 */
public record LocalPrometheus(Path binary, int port, Path dir) {

  /** The {@code prometheus} on the PATH, if any. */
  public static Optional<Path> onPath() {
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(d.isEmpty() ? "." : d, "prometheus");
      if (Files.isExecutable(p)) {
        return Optional.of(p.toAbsolutePath());
      }
    }
    return Optional.empty();
  }

  /**
   * Writes {@code dir/prometheus.yml} (each job one target, 127.0.0.1:port, at {@code /q/metrics};
   * the rule file {@code rules}) and returns the process that reads it.
   *
   * @param jobs job name to the HTTP port of its service, e.g. inference-service to 8080
   * @param interval scrape and rule evaluation interval, e.g. 15s
   */
  public Component component(
      String name, Map<String, Integer> jobs, Path rules, String interval, Path log)
      throws IOException {
    Files.createDirectories(dir.resolve("data"));
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, config(jobs, rules, interval));
    List<String> cmd =
        new ArrayList<>(
            List.of(
                binary.toString(),
                "--config.file=" + config.toAbsolutePath(),
                "--storage.tsdb.path=" + dir.resolve("data").toAbsolutePath(),
                "--storage.tsdb.retention.time=7d",
                "--web.listen-address=127.0.0.1:" + port));
    return Component.of(name, log, cmd).readyWhen(Readiness.http(url().resolve("/-/ready")));
  }

  public URI url() {
    return URI.create("http://127.0.0.1:" + port + "/");
  }

  /** The config {@link #component} writes. */
  public static String config(Map<String, Integer> jobs, Path rules, String interval) {
    StringBuilder s = new StringBuilder();
    s.append(
        "# Written by the launcher (lenet.launcher.LocalPrometheus); rewritten at each start.\n");
    s.append("global:\n");
    s.append("  scrape_interval: ").append(interval).append('\n');
    s.append("  evaluation_interval: ").append(interval).append('\n');
    s.append("rule_files:\n  - \"").append(rules.toAbsolutePath()).append("\"\n");
    s.append("scrape_configs:\n");
    jobs.forEach(
        (job, p) ->
            s.append("  - job_name: ")
                .append(job)
                .append("\n    metrics_path: /q/metrics\n    static_configs:\n")
                .append("      - targets: [\"127.0.0.1:")
                .append(p)
                .append("\"]\n"));
    return s.toString();
  }
}
