package lenet.launcher.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import lenet.launcher.PipelineSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's requests and output against an HTTP server that answers as the trainer and inference
 * services do (the real services: {@code EndToEndIT.theCliTrainsPredictsAndLists}).
 */
class CliTest {

  @TempDir Path run;
  HttpServer server;
  final List<String> requests = new CopyOnWriteArrayList<>();
  final Map<String, String> headers = new ConcurrentHashMap<>();
  final AtomicInteger runPolls = new AtomicInteger();
  final AtomicInteger modelPolls = new AtomicInteger();

  @BeforeEach
  void serve() throws IOException {
    Files.writeString(run.resolve("api-token"), "secret-token\n");
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::answer);
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private void answer(HttpExchange x) throws IOException {
    String path = x.getRequestURI().getPath();
    byte[] body = x.getRequestBody().readAllBytes();
    requests.add(
        x.getRequestMethod() + " " + path + " " + new String(body, StandardCharsets.UTF_8));
    headers.put(
        path,
        x.getRequestHeaders().getFirst("Content-Type")
            + " "
            + x.getRequestHeaders().getFirst("Authorization"));
    String key = x.getRequestMethod() + " " + path;
    switch (key) {
      case "POST /api/runs" ->
          reply(x, 202, "{\"runId\":\"run-1\",\"status\":\"/api/runs/run-1\"}");
      case "GET /api/runs/run-1" -> {
        int n = runPolls.incrementAndGet();
        if (n == 1) {
          reply(x, 404, "");
        } else if (n == 2) {
          reply(x, 200, run("RUNNING", 1, null));
        } else {
          reply(x, 200, run("COMPLETED", 2, 12));
        }
      }
      case "GET /api/models" ->
          reply(
              x,
              200,
              "{\"serving\":11,\"versions\":[{\"version\":12,\"runId\":\"run-1\",\"status\":\""
                  + (modelPolls.incrementAndGet() == 1 ? "CANDIDATE" : "CHAMPION")
                  + "\",\"gate\":{\"accuracy\":0.96},\"verdict\":\"promoted\"}]}");
      case "POST /api/predict" ->
          reply(x, 200, "{\"id\":\"a\",\"digit\":7,\"confidence\":0.99,\"modelVersion\":12}");
      case "GET /api/runs/events" -> {
        byte[] events =
            ("data:{\"type\":\"STARTED\",\"runId\":\"other\",\"device\":\"cpu()\"}\n\n"
                    + "data:{\"type\":\"EPOCH\",\"runId\":\"run-1\",\"epoch\":1,\"epochs\":1,"
                    + "\"loss\":0.5,\"accuracy\":0.8,\"devAccuracy\":0.9,\"imagesPerSecond\":100,"
                    + "\"modelVersion\":3}\n\n"
                    + "data:{\"type\":\"COMPLETED\",\"runId\":\"run-1\",\"modelVersion\":3,"
                    + "\"testAccuracy\":0.9,\"seconds\":2.0}\n\n")
                .getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().add("Content-Type", "text/event-stream");
        x.sendResponseHeaders(200, 0); // chunked, as a stream is
        x.getResponseBody().write(events);
        x.getResponseBody().flush();
        x.close();
      }
      case "DELETE /api/runs/done" ->
          reply(x, 409, "{\"error\":\"run done is already COMPLETED\"}");
      default -> reply(x, 404, "");
    }
  }

  private static String run(String state, int done, Integer version) {
    return "{\"runId\":\"run-1\",\"state\":\""
        + state
        + "\",\"epochs\":2,\"epochsDone\":"
        + done
        + ",\"modelVersion\":"
        + version
        + ",\"testAccuracy\":0.97,\"testLoss\":0.1,\"last\":{\"loss\":0.3,\"devAccuracy\":0.95},"
        + "\"history\":[]}";
  }

  private static void reply(HttpExchange x, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().add("Content-Type", "application/json");
    x.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      x.getResponseBody().write(bytes);
    }
    x.close();
  }

  record Result(int status, String out, String err) {}

  private Result cli(int port, String... args) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PipelineSettings settings =
        PipelineSettings.from(
            run,
            Map.of(
                "PIPELINE_RUN",
                run.toString(),
                "TRAINER_PORT",
                "" + port,
                "INFERENCE_PORT",
                "" + port,
                "PIPELINE_CALLER_DIR",
                run.toString()));
    int status =
        Cli.run(
            args,
            settings,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(
        status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Result cli(String... args) throws IOException {
    return cli(server.getAddress().getPort(), args);
  }

  @Test
  void trainShowsProgressAndEndsWithTheGatesVerdict() throws IOException {
    Result r = cli("train", "--epochs", "2");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(requests).contains("POST /api/runs {\"epochs\":2}");
    assertThat(headers.get("/api/runs")).isEqualTo("application/json Bearer secret-token");
    List<String> lines = r.out().lines().toList();
    assertThat(lines.get(0)).startsWith("run run-1 sent to the trainer {\"epochs\":2}");
    assertThat(lines.get(1)).startsWith("run-1 SENT      [......");
    assertThat(lines.get(2))
        .startsWith("run-1 RUNNING   [###############...............] 1/2 epochs");
    assertThat(lines.get(3))
        .startsWith("run-1 COMPLETED [##############################] 2/2 epochs");
    assertThat(lines.get(4))
        .isEqualTo("run run-1 completed: model v12, test accuracy 0.9700, test loss 0.1000");
    assertThat(lines.get(lines.size() - 1))
        .isEqualTo("gate: v12 CHAMPION (dev accuracy 0.9600): promoted");
  }

  @Test
  void trainJsonEndsWithOneDocumentForScripts() throws IOException {
    Result r = cli("train", "--json");
    assertThat(r.status()).isZero();
    assertThat(requests).contains("POST /api/runs {}");
    List<String> lines = r.out().lines().toList();
    lines.forEach(l -> Json.parse(l)); // every line is JSON
    Map<String, Object> last = Json.object(Json.parse(lines.get(lines.size() - 1)));
    assertThat(last).containsEntry("state", "COMPLETED").containsEntry("modelVersion", 12L);
    assertThat(Json.object(last.get("gate"))).containsEntry("status", "CHAMPION");
    assertThat(r.out()).doesNotContain("history");
  }

  @Test
  void predictSendsTheFileAsWhatItIs() throws IOException {
    Files.write(run.resolve("x.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G'});
    Result r = cli("predict", "x.png");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("digit 7  (confidence 0.9900, model v12)\n");
    assertThat(headers.get("/api/predict")).startsWith("image/png ");
    assertThat(Json.object(Json.parse(cli("predict", "x.png", "--json").out())))
        .containsEntry("digit", 7L);
    assertThat(cli("predict", "missing.png").err()).contains("no file");
  }

  @Test
  void refusalsAndAbsentServicesAreSaid() throws IOException {
    Result refused = cli("cancel", "done");
    assertThat(refused.status()).isEqualTo(1);
    assertThat(refused.err())
        .isEqualTo("ERROR: cannot cancel run done: HTTP 409: run done is already COMPLETED\n");
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Result down = cli(closed, "models");
    assertThat(down.status()).isEqualTo(1);
    assertThat(down.err())
        .contains("the inference service on 127.0.0.1:" + closed)
        .contains("is the pipeline up?");
    assertThat(cli("pin", "seven").status()).isEqualTo(2);
    assertThat(cli("frobnicate").status()).isEqualTo(2);
  }

  @Test
  void eventsFollowsTheStreamAndEndsWithTheRun() throws IOException {
    Result all = cli("events");
    assertThat(all.status()).isZero();
    assertThat(all.out().lines().toList())
        .hasSize(3)
        .satisfies(l -> assertThat(l.get(0)).endsWith("other STARTED on cpu()"))
        .satisfies(
            l ->
                assertThat(l.get(2))
                    .endsWith("run-1 COMPLETED model v3, test accuracy 0.9000, 2.0 s"));
    Result one = cli("events", "--run", "run-1", "--json");
    assertThat(one.status()).isZero();
    assertThat(one.out().lines().map(l -> Json.object(Json.parse(l)).get("type")).toList())
        .containsExactly("EPOCH", "COMPLETED");
  }

  @Test
  void withoutATokenNothingIsSent() throws IOException {
    Files.delete(run.resolve("api-token"));
    Result r = cli("follow");
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).contains("no API token").contains("api-token");
    assertThat(requests).isEmpty();
  }

  @Test
  void logsPrintsTheServicesLog() throws IOException {
    Files.createDirectories(run.resolve("logs"));
    Files.writeString(run.resolve("logs/trainer.log"), "one\ntwo\nthree\n");
    assertThat(cli("logs", "trainer").out()).isEqualTo("one\ntwo\nthree\n");
    assertThat(cli("logs", "trainer", "--tail", "2").out()).isEqualTo("two\nthree\n");
    Result none = cli("logs", "nope");
    assertThat(none.status()).isEqualTo(1);
    assertThat(none.err()).contains("there are: trainer");
  }
}
