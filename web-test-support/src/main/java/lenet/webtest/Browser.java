package lenet.webtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's headless Chromium through Debian's chromedriver (packages {@code chromium} and {@code
 * chromium-driver}; {@code .ci/run} installs them). Both paths are given, so Selenium Manager never
 * tries to download a browser or driver. A fresh profile per browser, deleted on close.
 */
public final class Browser implements AutoCloseable {

  public static final Path CHROMIUM =
      Path.of(System.getProperty("chromium.binary", "/usr/bin/chromium"));
  public static final Path DRIVER =
      Path.of(System.getProperty("webdriver.chrome.driver", "/usr/bin/chromedriver"));

  public final ChromeDriver driver;
  private final Path profile;

  public Browser() {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(DRIVER)) {
      throw new IllegalStateException(
          "The browser tests need Debian's Chromium and its driver at "
              + CHROMIUM
              + " and "
              + DRIVER
              + ": apt-get install -y chromium chromium-driver (.ci/run does)");
    }
    System.setProperty("webdriver.chrome.driver", DRIVER.toString());
    try {
      profile = Files.createTempDirectory("chromium-profile-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--user-data-dir=" + profile);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(DRIVER.toFile())
            .usingAnyFreePort()
            .withTimeout(Duration.ofSeconds(60))
            .build();
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
  }

  public WebDriverWait waitUpTo(Duration timeout) {
    WebDriverWait wait = new WebDriverWait(driver, timeout, Duration.ofMillis(100));
    return wait;
  }

  /**
   * Clicks the element {@code locator} finds, finding it again when the page re-rendered it between
   * the look-up and the click (tables the page refreshes on a timer or on a server event).
   */
  public void click(By locator) {
    waitUpTo(Duration.ofSeconds(10))
        .ignoring(StaleElementReferenceException.class)
        .until(
            d -> {
              d.findElement(locator).click();
              return true;
            });
  }

  /** The text of the element {@code locator} finds, read again when a re-render replaced it. */
  public String text(By locator) {
    return waitUpTo(Duration.ofSeconds(10))
        .ignoring(StaleElementReferenceException.class)
        .until(d -> d.findElement(locator).getText());
  }

  public Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  /**
   * Answers the page's {@code window.prompt} once it shows: types {@code text} and accepts, or
   * dismisses it when {@code text} is null.
   */
  public void answerPrompt(String text) {
    Alert prompt = waitUpTo(Duration.ofSeconds(10)).until(ExpectedConditions.alertIsPresent());
    if (text == null) {
      prompt.dismiss();
    } else {
      prompt.sendKeys(text);
      prompt.accept();
    }
  }

  /**
   * Gives the page the operator's API token for this browser session, as a person answering its
   * first prompt would.
   */
  public void rememberToken(String token) {
    js("sessionStorage.setItem('lenet.api-token', arguments[0])", token);
  }

  /** The page's console errors so far (failed requests, uncaught exceptions). */
  public List<String> consoleErrors() {
    return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
        .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
        .map(LogEntry::getMessage)
        .toList();
  }

  /**
   * Saves the whole page, beyond the window's height, as {@code target/screenshots/<name>.png}, and
   * keeps the docs' picture of it current: {@code docs/images/<name>.png} is committed with the
   * page's outline when it was taken ({@code docs/images/<name>.outline.txt}: its {@code h1} and
   * {@code h2} headings, which the page's code fixes, unlike its data). This fails when either file
   * is missing or the page's outline now differs; {@code -Dscreenshots.write=true} writes both.
   */
  public Path screenshot(String name) {
    Number width = (Number) js("return document.documentElement.scrollWidth");
    Number height = (Number) js("return document.documentElement.scrollHeight");
    Map<String, Object> shot =
        driver.executeCdpCommand(
            "Page.captureScreenshot",
            Map.of(
                "format",
                "png",
                "captureBeyondViewport",
                true,
                "clip",
                Map.of("x", 0, "y", 0, "width", width, "height", height, "scale", 1)));
    try {
      Path dir = Path.of("target", "screenshots");
      Files.createDirectories(dir);
      Path file = dir.resolve(name + ".png");
      Files.write(file, Base64.getDecoder().decode((String) shot.get("data")));
      documented(name, file);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The page's {@code h1} and {@code h2} headings, one a line, each its own text only. */
  public String outline() {
    return (String)
        js(
            "return [...document.querySelectorAll('h1, h2')].map(h => h.tagName.toLowerCase() + ' '"
                + " + [...h.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent)"
                + ".join('').replace(/\\s+/g, ' ').trim()).join('\\n') + '\\n'");
  }

  private void documented(String name, Path screenshot) throws IOException {
    Path images = repository().resolve("docs/images");
    Path picture = images.resolve(name + ".png");
    Path outline = images.resolve(name + ".outline.txt");
    String now = outline();
    if (Boolean.getBoolean("screenshots.write")) {
      Files.createDirectories(images);
      Files.copy(screenshot, picture, StandardCopyOption.REPLACE_EXISTING);
      Files.writeString(outline, now);
    }
    if (!Files.exists(picture)
        || !Files.exists(outline)
        || !Files.readString(outline).equals(now)) {
      throw new AssertionError(
          "docs/images/"
              + name
              + ".png is missing or shows an older page (its outline, "
              + outline.getFileName()
              + ", differs from the page's now:\n"
              + now
              + "). Take it again: run this page's test with -Dscreenshots.write=true");
    }
  }

  /** The repository's root: the nearest directory above the working one holding {@code mvnw}. */
  private static Path repository() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("mvnw"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("No mvnw above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // A leftover temp profile is harmless.
      }
    }
  }
}
