package lenet.e2e.monitoring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The monitoring files and what is derived from them: the one rules file ({@code
 * monitoring/alerts.yml}) and the dashboard ({@code monitoring/lenet-dashboard.json}) are the
 * sources; the PrometheusRule and the dashboard's ConfigMap in {@code deploy/components/monitoring}
 * carry copies, rendered here. Also the PromQL expressions of both, and the metric names they read.
 */
public final class MonitoringFiles {

  public static final String REWRITE = "-Dmonitoring.write=true (MonitoringFilesTest)";

  public final Path repo;

  public MonitoringFiles(Path repo) {
    this.repo = repo;
  }

  public Path alerts() {
    return repo.resolve("monitoring/alerts.yml");
  }

  public Path alertsTest() {
    return repo.resolve("monitoring/alerts-test.yml");
  }

  public Path dashboard() {
    return repo.resolve("monitoring/lenet-dashboard.json");
  }

  public Path prometheusRule() {
    return repo.resolve("deploy/components/monitoring/prometheusrule.yaml");
  }

  public Path dashboardConfigMap() {
    return repo.resolve("deploy/components/monitoring/grafana-dashboard.yaml");
  }

  /** Each alert's name and expression, in file order. */
  @SuppressWarnings("unchecked")
  public Map<String, String> alertExpressions() throws IOException {
    Map<String, Object> rules = new Yaml().load(Files.readString(alerts()));
    Map<String, String> out = new LinkedHashMap<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) rules.get("groups")) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        out.put(String.valueOf(rule.get("alert")), String.valueOf(rule.get("expr")).trim());
      }
    }
    return out;
  }

  private static final Pattern EXPR =
      Pattern.compile("\"expr\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final Pattern TITLE =
      Pattern.compile("\"title\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** Each dashboard query, keyed by its panel's title and its place in the panel. */
  public Map<String, String> panelExpressions() throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    String json = Files.readString(dashboard());
    // Panels are objects whose "title" precedes their targets' "expr"s (the file is written so).
    Matcher title = TITLE.matcher(json);
    List<int[]> titles = new ArrayList<>();
    List<String> names = new ArrayList<>();
    while (title.find()) {
      titles.add(new int[] {title.start()});
      names.add(unescape(title.group(1)));
    }
    Matcher expr = EXPR.matcher(json);
    while (expr.find()) {
      String panel = "?";
      for (int i = 0; i < titles.size(); i++) {
        if (titles.get(i)[0] < expr.start()) {
          panel = names.get(i);
        }
      }
      String key = panel;
      for (int n = 2; out.containsKey(key); n++) {
        key = panel + " #" + n;
      }
      out.put(key, unescape(expr.group(1)));
    }
    return out;
  }

  private static String unescape(String s) {
    return s.replace("\\\"", "\"").replace("\\n", "\n").replace("\\\\", "\\");
  }

  private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Set<String> PROMQL_WORDS =
      Set.of(
          "sum",
          "min",
          "max",
          "avg",
          "count",
          "by",
          "without",
          "on",
          "ignoring",
          "group_left",
          "group_right",
          "and",
          "or",
          "unless",
          "rate",
          "irate",
          "increase",
          "delta",
          "deriv",
          "absent",
          "histogram_quantile",
          "le",
          "offset",
          "bool",
          "topk",
          "bottomk",
          "clamp_min",
          "clamp_max",
          "abs",
          "time",
          "vector",
          "scalar",
          "label_replace",
          "avg_over_time",
          "max_over_time",
          "min_over_time",
          "inf",
          "nan");

  /**
   * The metric names an expression reads: identifiers outside braces, strings and the grouping
   * lists of {@code by (...)} / {@code on (...)}, that are not PromQL's own words.
   */
  public static Set<String> metricNames(String expr) {
    String s =
        expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
            .replaceAll("\\{[^}]*\\}", "")
            .replaceAll("\\[[^]]*\\]", "")
            .replaceAll(
                "(?i)\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
    Set<String> names = new TreeSet<>();
    Matcher m = IDENT.matcher(s);
    while (m.find()) {
      String word = m.group();
      boolean number = m.start() > 0 && Character.isDigit(s.charAt(m.start() - 1));
      if (!number && !PROMQL_WORDS.contains(word.toLowerCase())) {
        names.add(word);
      }
    }
    return names;
  }

  /** deploy/components/monitoring/prometheusrule.yaml, as it must read. */
  @SuppressWarnings("unchecked")
  public String renderPrometheusRule() throws IOException {
    Map<String, Object> rules = new Yaml().load(Files.readString(alerts()));
    Map<String, Object> rule = new LinkedHashMap<>();
    rule.put("apiVersion", "monitoring.coreos.com/v1");
    rule.put("kind", "PrometheusRule");
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("name", "lenet-alerts");
    meta.put("namespace", "lenet");
    meta.put("labels", Map.of("app.kubernetes.io/part-of", "lenet"));
    rule.put("metadata", meta);
    rule.put("spec", Map.of("groups", rules.get("groups")));
    return header("monitoring/alerts.yml") + yaml().dump(rule);
  }

  /** deploy/components/monitoring/grafana-dashboard.yaml, as it must read. */
  public String renderDashboardConfigMap() throws IOException {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("apiVersion", "v1");
    map.put("kind", "ConfigMap");
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("name", "lenet-dashboard");
    meta.put("namespace", "lenet");
    // Grafana's dashboard sidecar (kube-prometheus-stack) loads ConfigMaps with this label.
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("app.kubernetes.io/part-of", "lenet");
    labels.put("grafana_dashboard", "1");
    meta.put("labels", labels);
    map.put("metadata", meta);
    map.put("data", Map.of("lenet-dashboard.json", Files.readString(dashboard())));
    return header("monitoring/lenet-dashboard.json") + yaml().dump(map);
  }

  private static String header(String source) {
    return "# Rendered from "
        + source
        + " by MonitoringFilesTest: do not edit by hand; rewrite with "
        + REWRITE
        + ".\n";
  }

  private static Yaml yaml() {
    DumperOptions o = new DumperOptions();
    o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    o.setDefaultScalarStyle(DumperOptions.ScalarStyle.PLAIN);
    o.setWidth(120);
    o.setSplitLines(false);
    return new Yaml(o);
  }
}
