package lenet.launcher.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void readsTheServicesAnswers() {
    Object v =
        Json.parse(
            " {\"runId\":\"run-1\",\"epochs\":2,\"acc\":0.98,\"exp\":1e-3,\"neg\":-4,"
                + "\"ok\":true,\"no\":false,\"gone\":null,\"list\":[1,{\"a\":[]},\"x\"],"
                + "\"esc\":\"a\\\"b\\\\c\\n\\u00e9\"} ");
    Map<String, Object> m = Json.object(v);
    assertThat(m)
        .containsEntry("runId", "run-1")
        .containsEntry("epochs", 2L)
        .containsEntry("acc", 0.98)
        .containsEntry("exp", 1e-3)
        .containsEntry("neg", -4L)
        .containsEntry("ok", true)
        .containsEntry("no", false)
        .containsEntry("gone", null)
        .containsEntry("esc", "a\"b\\c\né");
    assertThat(m.keySet()).startsWith("runId", "epochs", "acc"); // in order
    assertThat(Json.list(m.get("list"))).hasSize(3).contains(1L, "x");
  }

  @Test
  void writesWhatItReads() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("s", "q\"\\\n\t\u0001");
    m.put("n", 3L);
    m.put("d", 0.5);
    m.put("nan", Double.NaN);
    m.put("null", null);
    m.put("l", Arrays.asList(1L, null, Map.of("x", true)));
    String text = Json.write(m);
    assertThat(text).contains("\"nan\":null").contains("\\u0001");
    Map<String, Object> back = Json.object(Json.parse(text));
    assertThat(back.get("s")).isEqualTo(m.get("s"));
    assertThat(back.get("l")).isEqualTo(Arrays.asList(1L, null, Map.of("x", true)));
    assertThat(Json.write(List.of())).isEqualTo("[]");
  }

  @Test
  void refusesWhatIsNotJson() {
    for (String bad : List.of("", "{", "{\"a\" 1}", "[1,]", "\"open", "nul", "{} x", "{a:1}")) {
      assertThatThrownBy(() -> Json.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("not JSON");
    }
  }

  @Test
  void anythingElseIsEmpty() {
    assertThat(Json.object("text")).isEmpty();
    assertThat(Json.list(null)).isEmpty();
  }
}
