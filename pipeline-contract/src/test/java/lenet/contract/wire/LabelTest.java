package lenet.contract.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import lenet.contract.wire.WireFormatException.Reason;
import org.junit.jupiter.api.Test;

/** Labels: what {@code POST /api/feedback} takes, what {@code digits.labels} holds. */
class LabelTest {

  private static byte[] json(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void feedbackBecomesALabelFromItsSourceNow() {
    Label l = Label.ofFeedback(json("{\"id\":\"img-1\",\"digit\":7}"), "http", 1234);
    assertThat(l).isEqualTo(new Label("img-1", 7, "http", 1234));
    assertThat(Label.decode(l.encode())).isEqualTo(l);
  }

  @Test
  void aProducersLabelNeedsOnlyIdAndDigit() {
    assertThat(Label.decode(json("{\"id\":\"x\",\"digit\":0}")))
        .isEqualTo(new Label("x", 0, "kafka", 0));
  }

  @Test
  void badFeedbackIsRefusedWithItsReason() {
    assertReason("{\"id\":\"x\",\"digit\":10}", Reason.VALUE_OUT_OF_RANGE);
    assertReason("{\"id\":\"x\",\"digit\":-1}", Reason.VALUE_OUT_OF_RANGE);
    assertReason("{\"id\":\"x\",\"digit\":\"7\"}", Reason.WRONG_TYPE);
    assertReason("{\"id\":\"x\"}", Reason.MISSING_FIELD);
    assertReason("{\"digit\":1}", Reason.MISSING_FIELD);
    assertReason("{\"id\":\"\",\"digit\":1}", Reason.INVALID_VALUE);
    assertReason("{\"id\":\"x\",\"digit\":1,\"source\":\"me\"}", Reason.UNKNOWN_FIELD);
    assertReason("[1]", Reason.WRONG_TYPE);
    assertReason("{", Reason.MALFORMED_JSON);
    assertReason("{\"id\":\"" + "x".repeat(2000) + "\",\"digit\":1}", Reason.TOO_LARGE);
  }

  private static void assertReason(String body, Reason reason) {
    assertThatThrownBy(() -> Label.ofFeedback(json(body), "http", 1))
        .as(body)
        .isInstanceOfSatisfying(
            WireFormatException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }
}
