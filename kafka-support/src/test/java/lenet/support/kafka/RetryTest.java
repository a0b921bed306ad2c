package lenet.support.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

// A loop that never ends is the failure to expect here: each test is cut off, not waited for.
@Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RetryTest {

  private static Backoff quick() {
    return Backoff.doubling(Duration.ofMillis(5), Duration.ofMillis(20));
  }

  @Test
  void aFailingWriteIsTriedAgainUntilItSucceedsAndEachFailureIsTold() {
    AtomicInteger tries = new AtomicInteger();
    List<String> told = new ArrayList<>();
    String result =
        Retry.untilDone(
            quick(),
            Retry::kafkaTrouble,
            (e, attempt, wait) -> told.add(attempt + ":" + wait.toMillis() + ":" + e.getMessage()),
            () -> {
              if (tries.incrementAndGet() < 4) {
                throw new TimeoutException("broker away " + tries.get());
              }
              return "written";
            });
    assertThat(result).isEqualTo("written");
    assertThat(tries).hasValue(4);
    assertThat(told)
        .containsExactly("1:5:broker away 1", "2:10:broker away 2", "3:20:broker away 3");
  }

  @Test
  void aFailureTheCallerDoesNotRetryEndsItAtOnce() {
    AtomicInteger tries = new AtomicInteger();
    assertThatThrownBy(
            () ->
                Retry.untilDone(
                    quick(),
                    Retry::kafkaTrouble,
                    (e, attempt, wait) -> {},
                    () -> {
                      tries.incrementAndGet();
                      throw new IllegalArgumentException("bad file");
                    }))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bad file");
    assertThat(tries).hasValue(1);
  }

  @Test
  void aKafkaFailureWrappedInAnotherIsStillKafkaTrouble() {
    assertThat(Retry.kafkaTrouble(new IllegalStateException("x", new TimeoutException("t"))))
        .isTrue();
    assertThat(Retry.kafkaTrouble(new IllegalStateException("x"))).isFalse();
  }

  @Test
  void interruptingTheWaitEndsItWithTheLastFailureAndKeepsTheFlag() throws Exception {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    AtomicReference<Boolean> flag = new AtomicReference<>();
    CountDownLatch failing = new CountDownLatch(1);
    Thread worker =
        new Thread(
            () -> {
              try {
                Retry.untilDone(
                    Backoff.doubling(Duration.ofSeconds(30), Duration.ofSeconds(30)),
                    Retry.ANY,
                    (e, attempt, wait) -> failing.countDown(),
                    () -> {
                      throw new TimeoutException("broker away");
                    });
              } catch (RuntimeException e) {
                thrown.set(e);
                flag.set(Thread.currentThread().isInterrupted());
              }
            });
    worker.setDaemon(true); // a loop that ignored the interruption must not hold the test JVM
    worker.start();
    assertThat(failing.await(10, TimeUnit.SECONDS)).isTrue();
    worker.interrupt();
    worker.join(10_000);
    assertThat(worker.isAlive()).isFalse();
    assertThat(thrown.get()).isInstanceOf(TimeoutException.class).hasMessage("broker away");
    assertThat(flag.get()).isTrue();
  }

  @Test
  void aCheckedFailureOfTheWorkIsNotRetried() {
    AtomicInteger tries = new AtomicInteger();
    assertThatThrownBy(
            () ->
                Retry.untilDone(
                    quick(),
                    Retry.ANY,
                    (e, attempt, wait) -> {},
                    () -> {
                      tries.incrementAndGet();
                      throw new InterruptedException("stopping");
                    }))
        .isInstanceOf(InterruptedException.class);
    assertThat(tries).hasValue(1);
  }
}
