package lenet.e2e.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The rules file and the dashboard, without the services (EndToEndIT runs them against the
 * services): {@code promtool check rules} and {@code promtool test rules} (each alert fires on its
 * bad case and stays quiet on the good one, monitoring/alerts-test.yml), every alert unit-tested,
 * the Kubernetes copies equal to their sources, and compose's Prometheus config ({@code promtool
 * check config}) and the files docker-compose.monitoring.yml mounts. Skipped, saying so, where
 * promtool is not installed (Debian's {@code prometheus} package; {@code .ci/run} installs it).
 */
class MonitoringFilesTest {

  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  final MonitoringFiles files = new MonitoringFiles(REPO);

  @Test
  void theKubernetesCopiesAreRenderedFromTheRulesFileAndTheDashboard() throws Exception {
    check(files.prometheusRule(), files.renderPrometheusRule());
    check(files.dashboardConfigMap(), files.renderDashboardConfigMap());
  }

  private static void check(Path file, String expected) throws Exception {
    if (Boolean.getBoolean("monitoring.write")) {
      Files.writeString(file, expected);
    }
    assertThat(Files.exists(file) ? Files.readString(file) : "")
        .as("%s is rendered (rewrite: %s)", file, MonitoringFiles.REWRITE)
        .isEqualTo(expected);
  }

  @Test
  void composeMountsTheMonitoringFilesItsPrometheusAndGrafanaRead() throws Exception {
    String compose = Files.readString(REPO.resolve("docker-compose.monitoring.yml"));
    java.util.regex.Matcher mount =
        java.util.regex.Pattern.compile("- \\./(monitoring/[^:]+):([^:]+):ro").matcher(compose);
    java.util.Set<String> targets = new java.util.HashSet<>();
    while (mount.find()) {
      assertThat(REPO.resolve(mount.group(1))).as("mounted by compose").exists();
      targets.add(mount.group(2));
    }
    assertThat(targets)
        .contains(
            "/etc/prometheus/prometheus.yml",
            "/etc/prometheus/alerts.yml",
            "/var/lib/grafana/dashboards/lenet-dashboard.json");
    assertThat(Files.readString(REPO.resolve("monitoring/prometheus.yml")))
        .contains("- /etc/prometheus/alerts.yml")
        .contains(
            "job_name: ingest-service", "job_name: trainer-service", "job_name: inference-service");
  }

  @Test
  void everyAlertHasAUnitTest() throws Exception {
    String tests = Files.readString(files.alertsTest());
    for (String alert : files.alertExpressions().keySet()) {
      assertThat(tests)
          .as("monitoring/alerts-test.yml tests " + alert)
          .contains("alertname: " + alert);
    }
  }

  @Test
  void theMetricNamesOfAnExpressionAreFoundAndEveryQueryNamesOne() throws Exception {
    assertThat(
            MonitoringFiles.metricNames(
                "histogram_quantile(0.95, sum by (le, source) (rate(inference_latency_seconds_bucket[5m])))"))
        .containsExactly("inference_latency_seconds_bucket");
    assertThat(
            MonitoringFiles.metricNames(
                "max(increase(a_total{verdict=\"reject\"}[1d])) >= 2 unless max(b_total) > 0"))
        .containsExactly("a_total", "b_total");
    assertThat(MonitoringFiles.metricNames("up{job=~\"x-service|y\"} == 0 and absent(c >= 1e3)"))
        .containsExactly("c", "up");
    files
        .panelExpressions()
        .forEach((panel, e) -> assertThat(MonitoringFiles.metricNames(e)).as(panel).isNotEmpty());
    files
        .alertExpressions()
        .forEach((alert, e) -> assertThat(MonitoringFiles.metricNames(e)).as(alert).isNotEmpty());
    assertThat(files.panelExpressions()).hasSizeGreaterThan(20);
  }

  @Test
  void promtoolChecksAndUnitTestsTheAlerts() throws Exception {
    Path promtool = Path.of("/usr/bin/promtool");
    if (!Files.isExecutable(promtool)) {
      promtool = Path.of(System.getProperty("promtool", "promtool"));
    }
    Assumptions.assumeTrue(
        run(List.of(promtool.toString(), "--version")).startsWith("0:"),
        "SKIPPED: no promtool (apt-get install prometheus): the alerts were NOT unit-tested");
    String check = run(List.of(promtool.toString(), "check", "rules", files.alerts().toString()));
    assertThat(check).as("promtool check rules").startsWith("0:");
    String test = run(List.of(promtool.toString(), "test", "rules", files.alertsTest().toString()));
    assertThat(test).as("promtool test rules").startsWith("0:").contains("SUCCESS");
  }

  /** Runs a command; its exit status, a colon, and its output. */
  static String run(List<String> command) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (java.io.IOException e) {
      return "-1: " + e.getMessage();
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return "-1: timed out\n" + out;
    }
    return p.exitValue() + ": " + out;
  }
}
