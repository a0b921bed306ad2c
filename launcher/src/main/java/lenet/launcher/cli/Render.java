package lenet.launcher.cli;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The services' answers as lines for a person: progress bars, tables, one line per event. */
final class Render {

  static final int BAR_WIDTH = 30;

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());
  private static final DateTimeFormatter DATE_TIME =
      DateTimeFormatter.ofPattern("MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

  private Render() {}

  /** {@code [######..............]}: {@code done} of {@code total} filled. */
  static String bar(long done, long total, int width) {
    int filled = total <= 0 ? 0 : (int) Math.min(width, Math.max(0, done * width / total));
    return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
  }

  /**
   * A run ({@code GET /api/runs/{id}}) as one progress line: its state, a bar of epochs done, the
   * last epoch's figures, the seconds since the command was sent.
   */
  static String progress(Map<String, Object> run, long seconds) {
    long epochs = whole(run.get("epochs"));
    long done = whole(run.get("epochsDone"));
    StringBuilder line =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%s %-9s %s %d/%s epochs",
                run.get("runId"),
                run.get("state"),
                bar(done, epochs, BAR_WIDTH),
                done,
                epochs > 0 ? epochs : "?"));
    Map<String, Object> last = Json.object(run.get("last"));
    if (!last.isEmpty()) {
      line.append("  loss ")
          .append(decimal(last.get("loss"), 4))
          .append("  dev acc ")
          .append(decimal(last.get("devAccuracy"), 4));
    }
    Object position = run.get("position");
    if ("QUEUED".equals(run.get("state")) && position != null) {
      line.append("  place ").append(position).append(" in the queue");
    }
    return line.append("  ").append(seconds).append(" s").toString();
  }

  /** A run's end: its model and test figures, or why it did not complete. */
  static String outcome(Map<String, Object> run) {
    String state = String.valueOf(run.get("state"));
    if (state.equals("COMPLETED")) {
      return String.format(
          Locale.ROOT,
          "run %s completed: model v%s, test accuracy %s, test loss %s",
          run.get("runId"),
          run.get("modelVersion"),
          decimal(run.get("testAccuracy"), 4),
          decimal(run.get("testLoss"), 4));
    }
    Object message = run.get("message");
    return "run " + run.get("runId") + " " + state + (message == null ? "" : ": " + message);
  }

  /** The gate's verdict on a version ({@code GET /api/models}' entry for it). */
  static String gate(Map<String, Object> version) {
    Map<String, Object> gate = Json.object(version.get("gate"));
    StringBuilder line =
        new StringBuilder("gate: v" + version.get("version") + " " + version.get("status"));
    if (gate.get("accuracy") != null) {
      line.append(" (dev accuracy ").append(decimal(gate.get("accuracy"), 4)).append(')');
    }
    Object verdict = version.get("verdict");
    if (verdict != null && !verdict.toString().isBlank()) {
      line.append(": ").append(verdict);
    }
    return line.toString();
  }

  /** {@code POST /api/predict}'s answer: the digit, how sure, which model. */
  static String prediction(Map<String, Object> p) {
    return String.format(
        Locale.ROOT,
        "digit %s  (confidence %s, model v%s)",
        p.get("digit"),
        decimal(p.get("confidence"), 4),
        p.get("modelVersion"));
  }

  /** {@code GET /api/models}: what serves, then one row per version, newest first. */
  static String models(Map<String, Object> m) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "serving v%s  champion v%s  pinned %s  (%s, policy %s)%n",
            orDash(m.get("serving")),
            orDash(m.get("champion")),
            m.get("pinned") == null ? "-" : "v" + m.get("pinned"),
            String.valueOf(m.get("mode")).toLowerCase(Locale.ROOT),
            m.get("policy")));
    List<Object> versions = Json.list(m.get("versions"));
    if (versions.isEmpty()) {
      return out.append("no model versions yet (./pipeline train)\n").toString();
    }
    String row = "%-8s %-11s %-14s %-6s %-8s %-9s %-8s %s%n";
    out.append(
        String.format(
            row, "VERSION", "STATUS", "RUN", "EPOCH", "DEV ACC", "TEST ACC", "GATE", "VERDICT"));
    for (Object o : versions) {
      Map<String, Object> v = Json.object(o);
      out.append(
          String.format(
              row,
              v.get("version") + (Boolean.TRUE.equals(v.get("serving")) ? " *" : ""),
              v.get("status"),
              v.get("runId"),
              v.get("epoch") + "/" + v.get("epochs"),
              decimal(v.get("devAccuracy"), 4),
              decimal(v.get("testAccuracy"), 4),
              decimal(Json.object(v.get("gate")).get("accuracy"), 4),
              shorten(v.get("verdict"), 70)));
    }
    return out.append("* serves here\n").toString();
  }

  /** {@code GET /api/runs}: one row per run, newest first. */
  static String runs(List<Object> runs) {
    if (runs.isEmpty()) {
      return "no runs yet (./pipeline train)\n";
    }
    StringBuilder out = new StringBuilder();
    String row = "%-16s %-10s %-7s %-7s %-7s %-9s %-15s %s%n";
    out.append(
        String.format(
            row, "RUN", "STATE", "EPOCHS", "DEVICE", "MODEL", "TEST ACC", "STARTED", "MESSAGE"));
    for (Object o : runs) {
      Map<String, Object> r = Json.object(o);
      out.append(
          String.format(
              row,
              r.get("runId"),
              r.get("state"),
              r.get("epochsDone") + "/" + orDash(r.get("epochs")),
              orDash(r.get("device")),
              r.get("modelVersion") == null ? "-" : "v" + r.get("modelVersion"),
              decimal(r.get("testAccuracy"), 4),
              r.get("startedAt") instanceof Number n && n.longValue() > 0
                  ? DATE_TIME.format(Instant.ofEpochMilli(n.longValue()))
                  : "-",
              shorten(r.get("message"), 60)));
    }
    return out.toString();
  }

  /** One training event (as on {@code training.events}) in a line. */
  static String event(Map<String, Object> e) {
    String type = String.valueOf(e.get("type"));
    String head =
        (e.get("timestamp") instanceof Number n
                ? TIME.format(Instant.ofEpochMilli(n.longValue()))
                : "--:--:--")
            + " "
            + e.get("runId")
            + " "
            + type;
    return head
        + switch (type) {
          case "QUEUED" ->
              " " + e.get("epochs") + " epochs, place " + e.get("position") + " in the queue";
          case "STARTED" ->
              " on "
                  + e.get("device")
                  + (e.get("resumedFrom") == null
                      ? ""
                      : ", resumed after epoch " + e.get("resumedFrom"));
          case "EPOCH" ->
              String.format(
                  Locale.ROOT,
                  " %s/%s loss %s acc %s dev acc %s  %s img/s  v%s",
                  e.get("epoch"),
                  e.get("epochs"),
                  decimal(e.get("loss"), 4),
                  decimal(e.get("accuracy"), 4),
                  decimal(e.get("devAccuracy"), 4),
                  decimal(e.get("imagesPerSecond"), 0),
                  e.get("modelVersion"));
          case "COMPLETED" ->
              String.format(
                  Locale.ROOT,
                  " model v%s, test accuracy %s, %s s",
                  e.get("modelVersion"),
                  decimal(e.get("testAccuracy"), 4),
                  decimal(e.get("seconds"), 1));
          case "CANCELLED" -> " after epoch " + e.get("epoch") + ": " + e.get("message");
          case "FAILED" -> ": " + e.get("message");
          default -> "";
        };
  }

  static String decimal(Object value, int places) {
    return value instanceof Number n
        ? String.format(Locale.ROOT, "%." + places + "f", n.doubleValue())
        : "-";
  }

  private static long whole(Object value) {
    return value instanceof Number n ? n.longValue() : 0;
  }

  private static String orDash(Object value) {
    return value == null ? "-" : value.toString();
  }

  private static String shorten(Object text, int max) {
    if (text == null) {
      return "";
    }
    String s = text.toString().replace('\n', ' ');
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }
}
