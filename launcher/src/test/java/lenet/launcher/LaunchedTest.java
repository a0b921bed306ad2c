package lenet.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LaunchedTest {

  @TempDir Path dir;

  @Test
  void readyOnceItPrintsTheLineAndItsEnvironmentAndOutputReachTheLog() throws Exception {
    Component c =
        Processes.shell(dir, "node", "echo \"token=$SECRET\"; sleep 0.3; echo READY; exec sleep 30")
            .withEnvironment(Map.of("SECRET", "s3"))
            .readyWhen(Readiness.logLine("READY"));
    Launched launched = Launcher.start(c);
    try {
      launched.awaitReady(Duration.ofSeconds(10));
      assertThat(Files.readString(c.log())).startsWith(Launcher.HEADER).contains("token=s3");
      assertThat(String.join(" ", c.command())).doesNotContain("s3");
    } finally {
      launched.stop(Duration.ofSeconds(5));
    }
    assertThat(launched.isAlive()).isFalse();
  }

  @Test
  void aReadyLineFromAnEarlierStartDoesNotCount() throws Exception {
    Component c =
        Processes.shell(dir, "node", "exec sleep 30").readyWhen(Readiness.logLine("READY"));
    Files.writeString(c.log(), Launcher.HEADER + "earlier\nREADY\n");
    Launched launched = Launcher.start(c);
    try {
      assertThatThrownBy(() -> launched.awaitReady(Duration.ofMillis(600)))
          .isInstanceOfSatisfying(
              NotReadyException.class,
              e -> assertThat(e.reason()).isEqualTo(NotReadyException.Reason.TIMED_OUT));
    } finally {
      launched.stop(Duration.ofSeconds(5));
    }
  }

  @Test
  void aProcessThatExitsIsNotReadyAndSaysItsCode() throws Exception {
    Component c =
        Processes.shell(dir, "svc", "echo boom; exit 3").readyWhen(Readiness.logLine("READY"));
    Launched launched = Launcher.start(c);
    assertThatThrownBy(() -> launched.awaitReady(Duration.ofSeconds(10)))
        .isInstanceOfSatisfying(
            NotReadyException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(NotReadyException.Reason.EXITED);
              assertThat(e.getMessage()).contains("code 3").contains(c.log().toString());
            });
  }

  @Test
  void stopEscalatesToKillWhenTheProcessIgnoresTerm() throws Exception {
    Component c =
        Processes.shell(dir, "stubborn", "trap '' TERM; echo READY; while :; do sleep 0.1; done")
            .readyWhen(Readiness.logLine("READY"));
    Launched launched = Launcher.start(c).awaitReady(Duration.ofSeconds(10));
    long t0 = System.nanoTime();
    launched.stop(Duration.ofMillis(500));
    assertThat(launched.isAlive()).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void httpReadinessWaitsForA2xxAnswer() throws Exception {
    AtomicInteger status = new AtomicInteger(503);
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/q/health/live",
        x -> {
          x.sendResponseHeaders(status.get(), -1);
          x.close();
        });
    server.start();
    try {
      Readiness live =
          Readiness.http(
              URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/q/health/live"));
      assertThat(live.isReady(dir.resolve("none.log"))).isFalse();
      status.set(200);
      assertThat(live.isReady(dir.resolve("none.log"))).isTrue();
      server.stop(0);
      assertThat(live.isReady(dir.resolve("none.log"))).as("nothing listens").isFalse();
    } finally {
      server.stop(0);
    }
  }
}
