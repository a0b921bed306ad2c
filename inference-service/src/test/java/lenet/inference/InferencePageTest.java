package lenet.inference;

import static io.restassured.RestAssured.given;
import static lenet.webtest.Operator.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
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
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import lenet.contract.dataset.MnistSet;
import lenet.contract.topics.Topic;
import lenet.contract.wire.Label;
import lenet.contract.wire.Prediction;
import lenet.inference.model.ModelManager;
import lenet.webtest.Browser;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The inference page in a real headless Chromium: real MNIST test digits drawn on its canvas with
 * pointer events and uploaded as images, a drawn digit labelled from the page (read back from
 * {@code digits.labels}), the live counts, a version's live accuracy and confusion matrix from
 * labelled outcomes, and pinning an older model version.
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
  void drawsLabelsUploadsCountsAndPinsAnOlderVersion() throws Exception {
    TestModels.ensureServing(models);
    long older = TestModels.publishAndAwait(models);
    long newer = TestModels.publishAndAwait(models); // no label has reached it yet
    List<Integer> digits = confidentlyRightDigits(2);

    browser.driver.get(page.toString());
    WebDriverWait wait = browser.waitUpTo(Duration.ofSeconds(20));
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(By.id("serving"), "serving v" + newer));
    wait.until(
        ExpectedConditions.presenceOfElementLocated(
            By.cssSelector("#versions tr[data-version='" + older + "']")));
    By liveCell = By.cssSelector("#versions tr[data-version='" + newer + "'] td.live");
    assertThat(
            browser.js(
                "return [arguments[0].innerText, document.getElementById('confusion-summary')"
                    + ".innerText, document.querySelectorAll('#confusion td').length,"
                    + " document.getElementById('feedback').hidden]",
                browser.driver.findElement(liveCell)))
        .as("a version without labels; no prediction to label yet")
        .isEqualTo(List.of("no labels yet", "v" + newer + ": no labels yet", 0L, true));
    // Images for the live figures and their labels, sent now so the join meets them while the
    // page is driven.
    String run = "page-live-" + UUID.randomUUID();
    int[] actual = sendLabelledImages(run);

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

    // The last drawing labelled: "right" labels it with the shown digit, another digit changes the
    // label; both go to digits.labels under the prediction's id with source "page".
    int shown = shownDigit();
    String id = browser.driver.findElement(By.id("feedback")).getAttribute("data-id");
    assertThat(id).isNotBlank();
    browser.driver.findElement(By.id("label-right")).click();
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("label-status"), "Label recorded: " + shown + " (source page)"));
    assertThat(browser.driver.findElement(By.id("label-right")).isEnabled())
        .as("the recorded label's button")
        .isFalse();
    int corrected = (shown + 1) % 10;
    browser.click(By.cssSelector("#label-digits button[data-label='" + corrected + "']"));
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(
            By.id("label-status"), "Label recorded: " + corrected + " (source page)"));
    assertThat(labelsOf(id, 2))
        .as("the newest label of the id is the correction")
        .extracting(Label::digit, Label::source)
        .containsExactly(tuple(shown, "page"), tuple(corrected, "page"));
    assertThat(browser.driver.findElement(By.id("label-right")).isEnabled()).isTrue();

    // Live figures: the images and labels sent after the page opened, and the drawing labelled on
    // the page (its prediction is on digits.predictions too, so its newest label counts once); the
    // page shows the version's live accuracy and its matrix.
    long[][] expected = confusion(run, actual, newer);
    expected[corrected][shown]++;
    long labelled = LIVE_IMAGES + 1;
    long correct = IntStream.range(0, 10).mapToLong(d -> expected[d][d]).sum();
    browser
        .waitUpTo(Duration.ofSeconds(60))
        .until(
            d ->
                browser
                    .text(By.cssSelector("#versions tr[data-version='" + newer + "'] td.labelled"))
                    .equals(String.valueOf(labelled)));
    String accuracy = String.format(Locale.ROOT, "%.2f%%", 100.0 * correct / labelled);
    assertThat(browser.text(liveCell)).startsWith(accuracy + " (").endsWith("%)");
    assertThat(browser.text(By.id("confusion-summary")))
        .startsWith("v" + newer + ": " + accuracy + " right (95% interval ")
        .endsWith("on " + labelled + " labelled outcomes");
    assertConfusion(newer, expected);
    browser.screenshot("inference");

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
    assertThat(browser.text(By.id("confusion-summary")))
        .as("the matrix follows the serving version")
        .isEqualTo("v" + older + ": no labels yet");
    new Select(browser.driver.findElement(By.id("confusion-version")))
        .selectByValue(String.valueOf(newer));
    assertConfusion(newer, expected);

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

  /** Images scored from Kafka for the live figures. */
  static final int LIVE_IMAGES = 6;

  /**
   * Sends test images 0 to {@link #LIVE_IMAGES} - 1 to {@code digits.images} as {@code run-i}, and
   * a label for each: its true digit, but the digit after it for the first (so a cell off the
   * diagonal fills unless the model predicts that very digit). Returns the labels' digits.
   */
  private static int[] sendLabelledImages(String run) {
    int[] actual = new int[LIVE_IMAGES];
    try (KafkaProducer<byte[], byte[]> producer = TestModels.producer()) {
      for (int i = 0; i < LIVE_IMAGES; i++) {
        String key = run + "-" + i;
        actual[i] = i == 0 ? (TestModels.label(i) + 1) % 10 : TestModels.label(i);
        producer.send(
            new ProducerRecord<>(
                Topic.DIGITS_IMAGES.defaultName(),
                key.getBytes(StandardCharsets.UTF_8),
                TestModels.pixelsJson(null, i).getBytes(StandardCharsets.UTF_8)));
        producer.send(
            new ProducerRecord<>(
                Topic.DIGITS_LABELS.defaultName(),
                key.getBytes(StandardCharsets.UTF_8),
                new Label(key, actual[i], "test", System.currentTimeMillis()).encode()));
      }
    }
    return actual;
  }

  /**
   * The confusion matrix, {@code [actual][predicted]}, of the images {@link #sendLabelledImages}
   * sent, once {@code version} predicted them.
   */
  private static long[][] confusion(String run, int[] actual, long version) {
    Map<String, List<ConsumerRecord<byte[], byte[]>>> predictions =
        TestModels.readUntil(
            Topic.DIGITS_PREDICTIONS.defaultName(),
            k -> k.startsWith(run),
            m -> m.size() == LIVE_IMAGES,
            Duration.ofSeconds(60));
    long[][] expected = new long[10][10];
    for (int i = 0; i < LIVE_IMAGES; i++) {
      Prediction p = Prediction.decode(predictions.get(run + "-" + i).get(0).value());
      assertThat(p.modelVersion()).isEqualTo(version);
      expected[actual[i]][p.digit()]++;
    }
    return expected;
  }

  /** The heat map shows {@code version}: one cell per actual and predicted digit, its count. */
  private static void assertConfusion(long version, long[][] expected) {
    assertThat(browser.driver.findElement(By.id("confusion")).getAttribute("data-version"))
        .isEqualTo(String.valueOf(version));
    @SuppressWarnings("unchecked")
    List<List<Object>> cells =
        (List<List<Object>>)
            browser.js(
                "return [...document.querySelectorAll('#confusion td[data-count]')].map(c =>"
                    + " [Number(c.dataset.actual), Number(c.dataset.predicted),"
                    + " Number(c.dataset.count), c.title, c.textContent])");
    assertThat(cells).hasSize(100);
    for (List<Object> cell : cells) {
      int actual = ((Number) cell.get(0)).intValue();
      int predicted = ((Number) cell.get(1)).intValue();
      long count = expected[actual][predicted];
      assertThat(((Number) cell.get(2)).longValue())
          .as("cell actual %d, predicted %d", actual, predicted)
          .isEqualTo(count);
      assertThat((String) cell.get(3))
          .startsWith("actual " + actual + ", predicted " + predicted + ": " + count + " of ");
      assertThat(cell.get(4)).isEqualTo(count == 0 ? "" : String.valueOf(count));
    }
  }

  /** The labels of {@code id} on {@code digits.labels}, oldest first, once there are {@code n}. */
  private static List<Label> labelsOf(String id, int n) {
    return TestModels.readUntil(
            Topic.DIGITS_LABELS.defaultName(),
            id::equals,
            m -> m.getOrDefault(id, List.of()).size() >= n,
            Duration.ofSeconds(30))
        .getOrDefault(id, List.of())
        .stream()
        .map(r -> Label.decode(r.value()))
        .toList();
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
