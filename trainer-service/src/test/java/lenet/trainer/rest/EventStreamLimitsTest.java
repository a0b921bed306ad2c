package lenet.trainer.rest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lenet.kafka.SharedKafkaResource;
import lenet.trainer.TrainerConfig;
import org.junit.jupiter.api.Test;

/**
 * 100 clients open the live event stream and never read it: only {@code
 * trainer.events.max-subscribers} are served, every other one is refused at once (503), and the
 * places come back when the clients go.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class EventStreamLimitsTest {

  private static final Pattern GAUGE =
      Pattern.compile("(?m)^trainer_event_subscribers(?:\\{[^}]*\\})? ([0-9.]+)");

  @TestHTTPResource("/")
  URL root;

  @Inject TrainerConfig config;

  @Test
  void aHundredSilentClientsGetAtMostTheLimitAndTheRestAre503() throws Exception {
    int before = subscribers();
    List<Socket> sockets = new ArrayList<>();
    int refused = 0;
    try {
      for (int i = 0; i < 100; i++) {
        Socket s = new Socket(root.getHost(), root.getPort());
        s.setSoTimeout(2000);
        s.getOutputStream()
            .write(
                ("GET /api/runs/events HTTP/1.1\r\nHost: localhost\r\n"
                        + "Accept: text/event-stream\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        sockets.add(s);
      }
      for (Socket s : sockets) {
        try {
          String status =
              new BufferedReader(
                      new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                  .readLine();
          if (status != null && status.contains(" 503 ")) {
            refused++;
          }
        } catch (SocketTimeoutException e) {
          // served: a stream that has nothing to say yet
        }
      }
      int served = config.eventsMaxSubscribers() - before;
      assertThat(refused).isEqualTo(100 - served);
      assertThat(subscribers()).isEqualTo(config.eventsMaxSubscribers());
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
    await("the places are free again")
        .atMost(Duration.ofSeconds(30))
        .until(() -> subscribers() == before);
  }

  private static int subscribers() {
    Matcher m = GAUGE.matcher(given().get("/q/metrics").asString());
    assertThat(m.find()).as("the gauge trainer_event_subscribers").isTrue();
    return (int) Double.parseDouble(m.group(1));
  }
}
