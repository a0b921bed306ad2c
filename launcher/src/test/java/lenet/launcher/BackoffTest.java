package lenet.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

  private static final Duration QUICK = Duration.ofSeconds(2);

  @Test
  void doublesFromOneSecondUpToThirty() {
    Backoff b = Backoff.PIPELINE.fresh();
    assertThat(java.util.stream.IntStream.range(0, 7).mapToObj(i -> b.after(QUICK).toSeconds()))
        .containsExactly(1L, 2L, 4L, 8L, 16L, 30L, 30L);
  }

  @Test
  void startsOverAfterARunOfAMinute() {
    Backoff b = Backoff.PIPELINE.fresh();
    b.after(QUICK);
    b.after(QUICK);
    b.after(QUICK);
    assertThat(b.after(Duration.ofSeconds(60))).isEqualTo(Duration.ofSeconds(1));
    assertThat(b.after(QUICK)).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void eachFreshCopyStartsAtTheFirstStep() {
    Backoff b = Backoff.PIPELINE.fresh();
    b.after(QUICK);
    b.after(QUICK);
    assertThat(b.fresh().after(QUICK)).isEqualTo(Duration.ofSeconds(1));
  }
}
