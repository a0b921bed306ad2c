package lenet.launcher.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RenderTest {

  @Test
  void aBarFillsWithTheEpochsDone() {
    assertThat(Render.bar(0, 4, 8)).isEqualTo("[........]");
    assertThat(Render.bar(1, 4, 8)).isEqualTo("[##......]");
    assertThat(Render.bar(4, 4, 8)).isEqualTo("[########]");
    assertThat(Render.bar(9, 4, 8)).isEqualTo("[########]");
    assertThat(Render.bar(1, 0, 4)).isEqualTo("[....]");
  }

  @Test
  void aRunInOneLine() {
    Map<String, Object> run =
        Json.object(
            Json.parse(
                "{\"runId\":\"run-1\",\"state\":\"RUNNING\",\"epochs\":2,\"epochsDone\":1,"
                    + "\"last\":{\"epoch\":1,\"loss\":0.41234,\"devAccuracy\":0.921}}"));
    assertThat(Render.progress(run, 12))
        .isEqualTo(
            "run-1 RUNNING   [###############...............] 1/2 epochs  loss 0.4123  dev acc"
                + " 0.9210  12 s");
    Map<String, Object> queued =
        Json.object(
            Json.parse(
                "{\"runId\":\"r\",\"state\":\"QUEUED\",\"epochs\":null,\"epochsDone\":0,\"position\":2}"));
    assertThat(Render.progress(queued, 0)).contains("0/? epochs").contains("place 2 in the queue");
  }

  @Test
  void howARunEnded() {
    assertThat(
            Render.outcome(
                Json.object(
                    Json.parse(
                        "{\"runId\":\"r\",\"state\":\"COMPLETED\",\"modelVersion\":12,"
                            + "\"testAccuracy\":0.97312,\"testLoss\":0.08}"))))
        .isEqualTo("run r completed: model v12, test accuracy 0.9731, test loss 0.0800");
    assertThat(
            Render.outcome(
                Json.object(
                    Json.parse("{\"runId\":\"r\",\"state\":\"FAILED\",\"message\":\"no data\"}"))))
        .isEqualTo("run r FAILED: no data");
  }

  @Test
  void theGatesVerdict() {
    Map<String, Object> v =
        Json.object(
            Json.parse(
                "{\"version\":12,\"status\":\"CHAMPION\",\"gate\":{\"accuracy\":0.9655},"
                    + "\"verdict\":\"promoted: 0.9655 >= champion 0.9601 - 0.001\"}"));
    assertThat(Render.gate(v))
        .isEqualTo(
            "gate: v12 CHAMPION (dev accuracy 0.9655): promoted: 0.9655 >= champion 0.9601 - 0.001");
  }

  @Test
  void aPrediction() {
    assertThat(
            Render.prediction(
                Json.object(
                    Json.parse(
                        "{\"id\":\"x\",\"digit\":7,\"confidence\":0.99871,\"modelVersion\":12}"))))
        .isEqualTo("digit 7  (confidence 0.9987, model v12)");
  }

  @Test
  void theModelsAsATable() {
    String table =
        Render.models(
            Json.object(
                Json.parse(
                    "{\"policy\":\"gated\",\"mode\":\"FOLLOWING\",\"serving\":12,\"pinned\":null,"
                        + "\"champion\":12,\"versions\":["
                        + "{\"version\":12,\"runId\":\"run-b\",\"epoch\":2,\"epochs\":2,\"devAccuracy\":0.97,"
                        + "\"testAccuracy\":0.971,\"status\":\"CHAMPION\",\"serving\":true,"
                        + "\"gate\":{\"accuracy\":0.9655},\"verdict\":\"promoted\"},"
                        + "{\"version\":11,\"runId\":\"run-b\",\"epoch\":1,\"epochs\":2,\"devAccuracy\":0.95,"
                        + "\"testAccuracy\":null,\"status\":\"EPOCH\",\"serving\":false,\"gate\":null,"
                        + "\"verdict\":null}]}")));
    List<String> lines = table.lines().toList();
    assertThat(lines.get(0))
        .isEqualTo("serving v12  champion v12  pinned -  (following, policy gated)");
    assertThat(lines.get(1))
        .startsWith("VERSION  STATUS      RUN            EPOCH  DEV ACC  TEST ACC  GATE");
    assertThat(lines.get(2))
        .startsWith(
            "12 *     CHAMPION    run-b          2/2    0.9700   0.9710    0.9655   promoted");
    assertThat(lines.get(3))
        .startsWith("11       EPOCH       run-b          1/2    0.9500   -         -");
    assertThat(lines.get(4)).isEqualTo("* serves here");
    assertThat(Render.models(Map.of())).contains("no model versions yet");
  }

  @Test
  void theRunsAsATable() {
    String table =
        Render.runs(
            Json.list(
                Json.parse(
                    "[{\"runId\":\"run-a\",\"state\":\"COMPLETED\",\"epochs\":2,\"epochsDone\":2,"
                        + "\"device\":\"cpu()\",\"startedAt\":1700000000000,\"modelVersion\":12,"
                        + "\"testAccuracy\":0.9731,\"message\":null},"
                        + "{\"runId\":\"run-b\",\"state\":\"QUEUED\",\"epochs\":5,\"epochsDone\":0,"
                        + "\"device\":null,\"startedAt\":0,\"modelVersion\":null,\"testAccuracy\":null,"
                        + "\"message\":\"epochs=5\"}]")));
    List<String> lines = table.lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).startsWith("RUN              STATE      EPOCHS");
    assertThat(lines.get(1))
        .startsWith("run-a            COMPLETED  2/2     cpu()   v12     0.9731");
    assertThat(lines.get(2))
        .startsWith("run-b            QUEUED     0/5     -       -       -         -");
    assertThat(lines.get(2)).endsWith("epochs=5");
    assertThat(Render.runs(List.of())).contains("no runs yet");
  }

  @Test
  void eventsInALineEach() {
    assertThat(
            Render.event(
                Json.object(
                    Json.parse(
                        "{\"type\":\"EPOCH\",\"runId\":\"r\",\"epoch\":1,\"epochs\":2,\"loss\":0.5,"
                            + "\"accuracy\":0.8,\"devAccuracy\":0.9,\"imagesPerSecond\":2500.4,"
                            + "\"modelVersion\":11}"))))
        .endsWith(" r EPOCH 1/2 loss 0.5000 acc 0.8000 dev acc 0.9000  2500 img/s  v11")
        .startsWith("--:--:--");
    assertThat(
            Render.event(
                Json.object(Json.parse("{\"type\":\"FAILED\",\"runId\":\"r\",\"message\":\"m\"}"))))
        .endsWith("r FAILED: m");
    assertThat(
            Render.event(
                Json.object(
                    Json.parse(
                        "{\"type\":\"QUEUED\",\"runId\":\"r\",\"epochs\":3,\"position\":1,\"timestamp\":0}"))))
        .endsWith("r QUEUED 3 epochs, place 1 in the queue");
  }
}
