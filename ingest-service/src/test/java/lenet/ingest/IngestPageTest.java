package lenet.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import lenet.contract.dataset.MnistSet;
import lenet.kafka.SharedKafkaResource;
import lenet.mnist.MnistFiles;
import lenet.webtest.Browser;
import lenet.webtest.Operator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

/** The ingest page in a real headless Chromium against the running service. */
@QuarkusTest
@QuarkusTestResource(SharedKafkaResource.class)
class IngestPageTest {

  static Browser browser;

  @TestHTTPResource("/")
  URL page;

  @Inject IngestJob job;

  @BeforeAll
  static void openBrowser() {
    browser = new Browser();
  }

  @AfterAll
  static void closeBrowser() {
    if (browser != null) {
      browser.close();
    }
  }

  @Test
  void showsTheStatisticsRealSampleDigitsAndReingests() {
    await()
        .atMost(Duration.ofMinutes(3))
        .until(() -> job.status().state() != IngestJob.State.RUNNING);
    assertThat(job.status().state()).isIn(IngestJob.State.DONE, IngestJob.State.SKIPPED);

    browser.driver.get(page.toString());
    var wait = browser.waitUpTo(Duration.ofSeconds(20));

    // The tutorial's facts, per split, in the table and as bars per class.
    wait.until(
        ExpectedConditions.textToBe(
            By.cssSelector("#facts tr[data-split=train] td:nth-child(2)"), "48,000"));
    assertThat(cell("dev", 2)).isEqualTo("12,000");
    assertThat(cell("test", 2)).isEqualTo("10,000");
    assertThat(cell("train", 3)).isEqualTo("(48000, 28, 28)");
    assertThat(cell("train", 5)).isEqualTo("255");
    assertThat(cell("test", 6)).isEqualTo("(10000, 1, 28, 28)");
    assertThat(cell("test", 7)).isEqualTo("float32");
    assertThat(cell("test", 10)).isEqualTo("1.0");
    @SuppressWarnings("unchecked")
    List<Number> trainBars =
        (List<Number>) browser.js("return Chart.getChart('label-chart').data.datasets[0].data");
    MnistSet train = new MnistFiles(Path.of(System.getProperty("mnist.dir")), true).train();
    int[] counts = train.head(48_000).labelCounts();
    assertThat(trainBars).extracting(Number::intValue).containsExactly(box(counts));

    // Sample digits: 10 classes, the first 12 training images of each, drawn from the real bytes.
    wait.until(
        ExpectedConditions.numberOfElementsToBe(By.cssSelector("#samples .strip canvas"), 120));
    for (int digit = 0; digit < 10; digit++) {
      int first = firstIndexOf(train, digit);
      @SuppressWarnings("unchecked")
      List<Number> red =
          (List<Number>)
              browser.js(
                  "const c = document.querySelector(`#samples .strip[data-digit='${arguments[0]}']"
                      + " canvas`);"
                      + "const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;"
                      + "return Array.from({length: 784}, (_, i) => d[i * 4]);",
                  digit);
      for (int p = 0; p < MnistSet.IMAGE_BYTES; p++) {
        assertThat(red.get(p).intValue())
            .as("class %d sample pixel %d", digit, p)
            .isEqualTo(train.pixel(first, p));
      }
    }
    browser.screenshot("ingest");
    assertThat(browser.consoleErrors()).isEmpty();

    // Bad input in the form: the server's message, on the page.
    samples("0");
    wait.until(
        ExpectedConditions.textToBe(By.id("samples-error"), "perClass must be in 1..32, got 0"));
    samples("many");
    wait.until(
        ExpectedConditions.textToBe(
            By.id("samples-error"), "perClass must be a whole number in 1..32"));
    samples("3");
    wait.until(
        ExpectedConditions.numberOfElementsToBe(By.cssSelector("#samples .strip canvas"), 30));
    assertThat(browser.driver.findElement(By.id("samples-error")).getText()).isEmpty();

    // Re-ingest (as the operator: the page has the token): the same files are on Kafka already, so
    // the service keeps that copy and says so.
    browser.rememberToken(Operator.token());
    browser.driver.findElement(By.id("ingest")).click();
    wait.until(ExpectedConditions.textToBe(By.id("state"), "SKIPPED"));
    assertThat(browser.driver.findElement(By.id("message")).getText())
        .contains("is already on Kafka");
    assertThat(browser.driver.findElement(By.id("ingest-ok")).getText())
        .isEqualTo("Ingest started.");
    assertThat(job.status().state()).isEqualTo(IngestJob.State.SKIPPED);

    // Forced: another complete copy is written, its progress shown as it goes.
    browser.driver.findElement(By.id("force")).click();
    browser.driver.findElement(By.id("ingest")).click();
    wait.until(
        ExpectedConditions.textToBe(By.id("ingest-ok"), "Ingest started: writing another copy."));
    browser
        .waitUpTo(Duration.ofMinutes(3))
        .until(ExpectedConditions.textToBe(By.id("state"), "DONE"));
    assertThat(browser.driver.findElement(By.id("message")).getText())
        .startsWith("wrote 70,000 images in");
    assertThat(browser.driver.findElement(By.id("progress")).getText())
        .contains("48,000\ntrain images written");
    assertThat(job.status().state()).isEqualTo(IngestJob.State.DONE);

    // Only the two refused requests, nothing else, went wrong in the page.
    assertThat(browser.consoleErrors())
        .hasSize(2)
        .allMatch(m -> m.contains("samples?perClass=") && m.contains("status of 400"));
  }

  private static String cell(String split, int column) {
    return browser
        .driver
        .findElement(
            By.cssSelector("#facts tr[data-split=" + split + "] td:nth-child(" + column + ")"))
        .getText();
  }

  private static void samples(String perClass) {
    WebElement input = browser.driver.findElement(By.id("per-class"));
    input.clear();
    input.sendKeys(perClass);
    browser.driver.findElement(By.cssSelector("#samples-form button")).click();
  }

  private static int firstIndexOf(MnistSet set, int digit) {
    for (int i = 0; i < set.count(); i++) {
      if (set.labels()[i] == digit) {
        return i;
      }
    }
    throw new AssertionError("no " + digit + " in " + set.name());
  }

  private static Integer[] box(int[] values) {
    return java.util.Arrays.stream(values).boxed().toArray(Integer[]::new);
  }
}
