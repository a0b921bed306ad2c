package lenet.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import lenet.contract.dataset.DatasetWriter;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.kafka.SharedKafka;
import lenet.kafka.SharedKafkaResource;
import lenet.mnist.MnistFiles;
import lenet.support.kafka.KafkaConnection;
import lenet.webtest.Browser;
import lenet.webtest.Operator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * The trainer page in a real headless Chromium: a run started from its form trains on a small real
 * MNIST subset, and the page's curves gain their points over server-sent events, without a reload.
 */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class TrainerPageTest {

  static Browser browser;

  @TestHTTPResource("/")
  URL page;

  @BeforeAll
  static void publishSmallDatasetAndOpenBrowser() throws Exception {
    Topics topics = Topics.defaults();
    topics.ensureAll(KafkaConnection.to(SharedKafka.bootstrapServers()));
    MnistFiles files = new MnistFiles(Path.of(System.getProperty("mnist.dir")), true);
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                "bootstrap.servers",
                SharedKafka.bootstrapServers(),
                "max.request.size",
                Topic.LARGE_RECORD),
            new StringSerializer(),
            new ByteArraySerializer())) {
      new DatasetWriter(producer, topics)
          .publish("page-test", files.train().head(3000), files.test().head(500), 0.2, 250, null);
    }
    browser = new Browser();
  }

  @AfterAll
  static void closeBrowser() {
    if (browser != null) {
      browser.close();
    }
  }

  @Test
  void aRunStartedFromTheFormGrowsItsCurvesLive() {
    browser.driver.get(page.toString());
    // The operator's page: starting and cancelling runs needs the API token.
    browser.rememberToken(Operator.token());
    var wait = browser.waitUpTo(Duration.ofSeconds(20));
    wait.until(ExpectedConditions.textToBe(By.id("live"), "live"));
    // The network summary (the engine's first start can take a few seconds).
    browser
        .waitUpTo(Duration.ofSeconds(60))
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("model"), "62,698 parameters"));
    // Marks this page load: still there at the end means no reload happened.
    browser.js("window.loadedOnce = true");

    // Bad input: the server's reason, on the page; nothing is published.
    fill(Map.of("epochs", "0"));
    wait.until(
        ExpectedConditions.textToBe(By.id("start-error"), "'epochs' must be in 1..1000, got 0"));
    fill(Map.of("epochs", "two"));
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("start-error"), "epochs"));
    fill(Map.of("epochs", "2", "learningRate", "-1"));
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("start-error"),
            "'learningRate' must be in [1.0E-9, 10] (the trainer uses it as a 32-bit float), got -1.0"));

    String runId = "page-run-" + System.currentTimeMillis();
    fill(Map.of("runId", runId, "epochs", "2", "learningRate", ""));
    wait.until(
        ExpectedConditions.textToBe(
            By.id("start-ok"), "Run " + runId + " queued on training.commands."));
    assertThat(browser.driver.findElement(By.id("start-error")).getText()).isEmpty();

    var slow = browser.waitUpTo(Duration.ofMinutes(3));
    slow.until(ExpectedConditions.textToBe(By.id("run-id"), runId));
    slow.until(d -> points("loss-chart") >= 1);
    assertThat(points("loss-chart")).as("one epoch done, one point").isEqualTo(1);
    assertThat(points("accuracy-chart")).isEqualTo(1);
    slow.until(d -> points("loss-chart") == 2);
    slow.until(ExpectedConditions.textToBe(By.id("run-state"), "COMPLETED"));

    // Training vs dev, both curves, each with the two epochs.
    assertThat(datasetLabels("loss-chart")).containsExactly("training", "dev");
    assertThat(points("accuracy-chart")).isEqualTo(2);
    @SuppressWarnings("unchecked")
    List<Number> devAccuracy =
        (List<Number>) browser.js("return Chart.getChart('accuracy-chart').data.datasets[1].data");
    assertThat(devAccuracy).allSatisfy(a -> assertThat(a.doubleValue()).isBetween(0.0, 1.0));
    // The page re-renders its tables as events and refreshes arrive: read them inside waits that
    // re-find the elements, so a re-render between find and read is retried, not a failure.
    var settled =
        browser.waitUpTo(Duration.ofSeconds(30)).ignoring(StaleElementReferenceException.class);
    settled.until(d -> d.findElements(By.cssSelector("#history tbody tr")).size() == 2);
    settled.until(
        d ->
            d.findElement(By.cssSelector("#describe tbody tr"))
                .getText()
                .startsWith("count 2 2 2 2"));
    settled.until(d -> d.findElement(By.id("run-result")).getText().contains("test accuracy"));
    settled.until(
        d ->
            d.findElement(By.cssSelector("#runs tr[data-run='" + runId + "']"))
                .getText()
                .contains("COMPLETED"));
    assertThat(browser.js("return window.loadedOnce === true")).isEqualTo(true);

    // A long run, cancelled from its row while it runs: CANCELLED within an epoch.
    String longRun = "page-cancel-" + System.currentTimeMillis();
    fill(Map.of("runId", longRun, "epochs", "200"));
    slow.until(
        d -> points("loss-chart") >= 1 && longRun.equals(d.findElement(By.id("run-id")).getText()));
    browser.click(By.cssSelector("button[data-cancel='" + longRun + "']"));
    slow.ignoring(StaleElementReferenceException.class)
        .until(
            d ->
                d.findElement(By.cssSelector("#runs tr[data-run='" + longRun + "']"))
                    .getText()
                    .contains("CANCELLED"));

    browser.screenshot("trainer");
    assertThat(browser.consoleErrors())
        .as("only the three refused commands went wrong")
        .hasSize(3)
        .allMatch(m -> m.contains("/api/runs") && m.contains("status of 400"));
  }

  private static void fill(Map<String, String> fields) {
    fields.forEach(
        (name, value) -> {
          WebElement input =
              browser.driver.findElement(By.cssSelector("#start [name=" + name + "]"));
          input.clear();
          input.sendKeys(value);
        });
    browser.driver.findElement(By.cssSelector("#start button[type=submit]")).click();
  }

  private static int points(String chart) {
    return ((Number)
            browser.js("return Chart.getChart(arguments[0]).data.datasets[0].data.length", chart))
        .intValue();
  }

  @SuppressWarnings("unchecked")
  private static List<String> datasetLabels(String chart) {
    return (List<String>)
        browser.js("return Chart.getChart(arguments[0]).data.datasets.map(d => d.label)", chart);
  }
}
