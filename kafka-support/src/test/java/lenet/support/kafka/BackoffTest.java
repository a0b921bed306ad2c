package lenet.support.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void waitsDoubleFromTheFirstToTheCapAndStayThere() {
    Backoff backoff = Backoff.brokerOutage();
    List<Long> seconds = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      seconds.add(backoff.next().toSeconds());
    }
    assertThat(seconds).containsExactly(1L, 2L, 4L, 8L, 16L, 30L, 30L, 30L);
    assertThat(backoff.failures()).isEqualTo(8);
  }

  @Test
  void aCapThatIsNoPowerOfTwoIsReachedExactly() {
    Backoff backoff = Backoff.doubling(Duration.ofSeconds(1), Duration.ofSeconds(5));
    List<Duration> waits = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      waits.add(backoff.next());
    }
    assertThat(waits)
        .containsExactly(
            Duration.ofSeconds(1),
            Duration.ofSeconds(2),
            Duration.ofSeconds(4),
            Duration.ofSeconds(5),
            Duration.ofSeconds(5));
  }

  @Test
  void aSuccessStartsTheCurveAgain() {
    Backoff backoff = Backoff.brokerOutage();
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    assertThat(backoff.failures()).isZero();
    assertThat(backoff.next()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void aCapBelowTheFirstWaitCapsEveryWait() {
    Backoff backoff = Backoff.doubling(Duration.ofSeconds(2), Duration.ofMillis(300));
    assertThat(backoff.next()).isEqualTo(Duration.ofMillis(300));
    assertThat(backoff.next()).isEqualTo(Duration.ofMillis(300));
  }

  @Test
  void aNegativeWaitIsRefused() {
    assertThatThrownBy(() -> Backoff.doubling(Duration.ofSeconds(-1), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
