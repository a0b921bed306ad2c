package lenet.inference;

import static io.restassured.RestAssured.given;
import static lenet.webtest.Operator.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topic;
import lenet.inference.model.ModelManager;
import lenet.webtest.Browser;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The inference page in a real headless Chromium: real MNIST test digits drawn on its canvas with
 * pointer events and uploaded as images, the live counts, and pinning an older model version.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class InferencePageTest {

  /** The canvas is 280x280: one MNIST pixel is 10x10 canvas pixels. */
  static final int SCALE = 10;

  static Browser browser;

  @TestHTTPResource("/")
  URL page;

  @Inject ModelManager models;

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
  void drawsUploadsCountsAndPinsAnOlderVersion() throws Exception {
    TestModels.ensureServing(models);
    long older = TestModels.publishAndAwait(models);
    long newer = TestModels.publishAndAwait(models);
    List<Integer> digits = confidentlyRightDigits(2);

    browser.driver.get(page.toString());
    WebDriverWait wait = browser.waitUpTo(Duration.ofSeconds(20));
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(By.id("serving"), "serving v" + newer));
    wait.until(
        ExpectedConditions.presenceOfElementLocated(
            By.cssSelector("#versions tr[data-version='" + older + "']")));

    // Upload: a real test digit photographed large, dark on white, off centre; then a file that
    // is no image, whose reason the service gives and the page shows.
    int uploaded = digits.get(0);
    Path png = Files.createTempFile("digit-", ".png");
    png.toFile().deleteOnExit();
    Files.write(png, TestModels.render(uploaded, 200, 5, 30, 20, "png"));
    browser.driver.findElement(By.id("upload")).sendKeys(png.toString());
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("pred-source"), "uploaded " + png.getFileName()));
    assertThat(shownDigit()).isEqualTo(TestModels.label(uploaded));
    Path text = Files.createTempFile("notes-", ".txt");
    text.toFile().deleteOnExit();
    Files.writeString(text, "not an image at all");
    browser.driver.findElement(By.id("upload")).sendKeys(text.toString());
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("upload-error"), "the image is not a PNG or JPEG"));

    // Live counts: a dead letter sent to Kafka shows up without a reload.
    long deadBefore = shownCount("stat-dead");
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      producer
          .send(
              new ProducerRecord<>(
                  Topic.DIGITS_IMAGES.defaultName(),
                  "page-test-garbage".getBytes(StandardCharsets.UTF_8),
                  "{ not json".getBytes(StandardCharsets.UTF_8)))
          .get(30, TimeUnit.SECONDS);
    }
    browser.waitUpTo(Duration.ofSeconds(30)).until(d -> shownCount("stat-dead") > deadBefore);
    assertThat(browser.driver.findElement(By.id("stat-reasons")).getText())
        .contains("MALFORMED_JSON");
    assertThat(shownCount("stat-http")).isGreaterThanOrEqualTo(1);

    // Draw real test digits with the pointer, stroke by stroke; the prediction follows the
    // drawing, and the last one is the digit's label.
    for (int i : digits) {
      browser.driver.findElement(By.id("clear")).click();
      draw(TestModels.pixels(i));
      wait.until(
          d ->
              browser.js(
                  "const g = document.getElementById('pad').dataset.generation;"
                      + "return document.getElementById('digit').dataset.generation === g;"));
      assertThat(shownDigit()).as("drawn test image %d", i).isEqualTo(TestModels.label(i));
      @SuppressWarnings("unchecked")
      List<Number> probabilities =
          (List<Number>) browser.js("return Chart.getChart('prob-chart').data.datasets[0].data");
      assertThat(probabilities).hasSize(10);
      assertThat(probabilities.stream().mapToDouble(Number::doubleValue).sum())
          .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-3));
      assertThat(probabilities.get(TestModels.label(i)).doubleValue())
          .isEqualTo(probabilities.stream().mapToDouble(Number::doubleValue).max().orElseThrow());
    }

    // Rollback from the page: it needs the API token, asked for once. No token: nothing is sent;
    // a wrong one: the server's reason on the page; the right one: pinned, and the API reports it.
    By pin = By.cssSelector("button[data-pin='" + older + "']");
    browser.click(pin);
    browser.answerPrompt(null);
    wait.until(
        ExpectedConditions.textToBe(By.id("models-error"), "not sent: this needs the API token"));
    browser.click(pin);
    browser.answerPrompt("a-token-that-is-not-this-services");
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("models-error"), "not one this service accepts"));
    assertThat(models.view().pinned()).as("a refused pin changes nothing").isNull();
    browser.click(pin);
    browser.answerPrompt(token());
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(By.id("mode"), "Pinned to v" + older));
    given()
        .get("/api/models")
        .then()
        .statusCode(200)
        .body("mode", equalTo("PINNED"))
        .body("pinned", equalTo(older))
        .body("serving", equalTo(older));
    assertThat(browser.text(By.cssSelector("#versions tr[data-version='" + older + "']")))
        .contains("serving")
        .contains("pinned");
    assertThat(browser.text(By.cssSelector("#versions tr[data-version='" + newer + "']")))
        .as("the newer version is the champion, its gate measured on the dev split")
        .contains("champion")
        .contains("dev");
    assertThat(browser.driver.findElement(By.id("history")).getText())
        .as("the control history names the pin")
        .contains("PIN v" + older);
    assertThat(browser.driver.findElement(By.id("follow")).isEnabled()).isTrue();
    browser.screenshot("inference");

    browser.driver.findElement(By.id("follow")).click();
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("mode"), "Following the champion"));
    given()
        .get("/api/models")
        .then()
        .body("mode", equalTo("FOLLOWING"))
        .body("serving", equalTo(newer));

    assertThat(browser.consoleErrors())
        .as("only the refused upload and the refused token went wrong")
        .hasSize(2)
        .anyMatch(m -> m.contains("/api/predict") && m.contains("status of 400"))
        .anyMatch(m -> m.contains("/activate") && m.contains("status of 401"));
  }

  /**
   * Test images the test model gets right with at least 90% confidence from their pixels, of
   * distinct labels.
   */
  private static List<Integer> confidentlyRightDigits(int n) {
    List<Integer> picked = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    for (int i = 0; i < 100 && picked.size() < n; i++) {
      Response r =
          given()
              .contentType("application/json")
              .body(TestModels.pixelsJson(null, i))
              .post("/api/predict");
      int label = TestModels.label(i);
      if (r.<Integer>path("digit") == label
          && r.<Float>path("confidence") >= 0.9f
          && !labels.contains(label)) {
        picked.add(i);
        labels.add(label);
      }
    }
    assertThat(picked).as("confidently classified test digits").hasSize(n);
    return picked;
  }

  /**
   * Draws a 28x28 digit on the pad as a person would trace it: one pointer stroke along each run of
   * bright pixels of each row (the pad's round pen fills the rows in between).
   */
  private static void draw(int[] pixels) {
    WebElement pad = browser.driver.findElement(By.id("pad"));
    Actions strokes = new Actions(browser.driver, Duration.ofMillis(5));
    int count = 0;
    for (int y = 0; y < MnistSet.ROWS; y++) {
      int x = 0;
      while (x < MnistSet.COLS) {
        if (pixels[y * MnistSet.COLS + x] < 128) {
          x++;
          continue;
        }
        int start = x;
        while (x < MnistSet.COLS && pixels[y * MnistSet.COLS + x] >= 128) {
          x++;
        }
        strokes
            .moveToElement(pad, offset(start), offset(y))
            .clickAndHold()
            .moveToElement(pad, offset(x - 1), offset(y))
            .release();
        count++;
      }
    }
    assertThat(count).as("strokes").isPositive();
    strokes.perform();
  }

  /** Canvas offset from the pad's centre (Selenium's origin) of the middle of MNIST pixel i. */
  private static int offset(int i) {
    return i * SCALE + SCALE / 2 - 14 * SCALE;
  }

  private static int shownDigit() {
    return Integer.parseInt(browser.driver.findElement(By.id("digit")).getText());
  }

  private static long shownCount(String id) {
    return Long.parseLong(browser.driver.findElement(By.id(id)).getText().replace(",", ""));
  }
}
