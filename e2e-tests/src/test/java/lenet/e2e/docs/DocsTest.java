package lenet.e2e.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import lenet.contract.topics.Topic;
import lenet.contract.wire.ImageEvent;
import lenet.e2e.deploy.ServiceSettings;
import lenet.e2e.deploy.ServiceSettings.Setting;
import org.junit.jupiter.api.Test;

/**
 * The names and numbers the docs give are the code's: every setting key and environment variable a
 * page names is one a service reads, every topic a page names is in {@link Topic}, the figures of
 * {@link #FACTS} are the defaults the code has, and the sample image event is one the services
 * accept. Docs are the Markdown pages of the repository (not {@code target/} or {@code
 * node_modules}).
 */
class DocsTest {

  private static final Path REPO = SettingsReferenceTest.REPO;
  private static final Map<String, ServiceSettings> SERVICES = ServiceSettings.onClassPath();

  /**
   * A key, e.g. {@code inference.gate.tolerance}; a family such as {@code trainer.*} is skipped.
   */
  private static final Pattern KEY =
      Pattern.compile(
          "(?<![\\w./-])((?:inference|trainer|ingest|api|topics)\\.[a-z0-9][a-z0-9.-]*[a-z0-9])"
              + "(\\.\\*|\\.<)?");

  /** A file name that looks like a key, e.g. {@code topics.yaml}. */
  private static final Pattern FILE =
      Pattern.compile(".*\\.(yaml|yml|png|json|txt|md|java|properties)");

  /** An environment variable of a service setting, e.g. {@code INFERENCE_POLICY}. */
  private static final Pattern ENV =
      Pattern.compile("(?<![\\w$])((?:INFERENCE|TRAINER|INGEST|API|TOPICS)_[A-Z0-9_]+)\\b");

  /** A topic name in code quotes, e.g. {@code `digits.images`}. */
  private static final Pattern TOPIC =
      Pattern.compile("`((?:mnist|training|model|digits)\\.[a-z.]*[a-z])`");

  /**
   * Sentences of the docs that quote a default: {@code {key}} stands for the setting's default as
   * the code has it; the page must contain the sentence with the default in its place.
   */
  static final List<Fact> FACTS =
      List.of(
          new Fact(
              "README.md",
              "({trainer.epochs} epochs, batch {trainer.batch-size}, {trainer.optimizer} at"
                  + " {trainer.learning-rate} after a {trainer.warm-up-epochs}-epoch warm-up,"
                  + " {trainer.schedule} schedule, seed {trainer.seed})"),
          new Fact("README.md", "N up to {inference.max-batch}"),
          new Fact("README.md", "413 over {inference.max-image-bytes:MiB}"),
          new Fact("inference-service/README.md", "413 above {inference.max-image-bytes:MiB}"),
          new Fact(
              "inference-service/README.md", "or {inference.max-image-pixels:,} decoded pixels"),
          new Fact(
              "docs/operations.md",
              "`topics.digits-images.partitions` ({topics.digits-images.partitions})"));

  /** A sentence of {@code file} that quotes defaults. */
  record Fact(String file, String template) {}

  @Test
  void everySettingTheDocsNameIsOneAServiceReads() {
    Set<String> keys = new TreeSet<>(SettingsReference.keys(SERVICES));
    Set<String> envNames =
        SERVICES.values().stream()
            .flatMap(s -> s.byKey().values().stream())
            .filter(s -> keys.contains(s.key()))
            .map(Setting::envName)
            .collect(Collectors.toCollection(TreeSet::new));
    String launchers = launcherVariables();
    List<String> unknown = new ArrayList<>();
    for (Path doc : docs()) {
      String text = read(doc);
      Matcher k = KEY.matcher(text);
      while (k.find()) {
        if (k.group(2) == null
            && !FILE.matcher(k.group(1)).matches()
            && !keys.contains(k.group(1))) {
          unknown.add(REPO.relativize(doc) + ": " + k.group(1));
        }
      }
      Matcher e = ENV.matcher(text);
      while (e.find()) {
        if (!envNames.contains(e.group(1)) && !launchers.contains(e.group(1))) {
          unknown.add(REPO.relativize(doc) + ": " + e.group(1));
        }
      }
    }
    assertThat(unknown).as("settings the docs name that no service reads").isEmpty();
  }

  @Test
  void everyTopicTheDocsNameIsInTheTopicTable() {
    Set<String> topics =
        Arrays.stream(Topic.values()).map(Topic::defaultName).collect(Collectors.toSet());
    List<String> unknown = new ArrayList<>();
    for (Path doc : docs()) {
      Matcher m = TOPIC.matcher(read(doc));
      while (m.find()) {
        if (!topics.contains(m.group(1))) {
          unknown.add(REPO.relativize(doc) + ": " + m.group(1));
        }
      }
    }
    assertThat(unknown).as("topics the docs name that Topic does not declare").isEmpty();
  }

  @Test
  void theFiguresTheDocsQuoteAreTheDefaults() {
    Map<String, Setting> settings =
        SERVICES.values().stream()
            .flatMap(s -> s.byKey().values().stream())
            .collect(Collectors.toMap(Setting::key, s -> s, (a, b) -> a));
    for (Fact fact : FACTS) {
      assertThat(read(REPO.resolve(fact.file())).replaceAll("\\s+", " "))
          .as("%s quotes the code's defaults", fact.file())
          .contains(render(fact.template(), settings).replaceAll("\\s+", " "));
    }
  }

  @Test
  void theSampleImageEventIsOneTheServicesAccept() throws IOException {
    Path sample = REPO.resolve("docs/examples/image-event.json");
    ImageEvent event = ImageEvent.decode(Files.readAllBytes(sample), null);
    assertThat(event.id()).isEqualTo("example-1");
    assertThat(event.pixels()).hasSize(ImageEvent.PIXELS);
    assertThat(read(REPO.resolve("README.md")))
        .as("the README sends it and reads its prediction under its id")
        .contains("docs/examples/image-event.json")
        .contains("isolation.level=read_committed")
        .contains("grep " + event.id());
  }

  @Test
  void ciRunsExactlyTheReadmesTestCommand() {
    Matcher command =
        Pattern.compile("^(\\./mvnw [^#\\n]*?)\\s+#", Pattern.MULTILINE)
            .matcher(read(REPO.resolve("README.md")));
    assertThat(command.find()).as("the README names a ./mvnw test command").isTrue();
    assertThat(read(REPO.resolve(".ci/run")).lines().map(String::strip))
        .as(".ci/run runs the README's test command")
        .contains(command.group(1));
  }

  /** {@code {key}}, {@code {key:,}} (digits grouped) or {@code {key:MiB}} replaced by defaults. */
  static String render(String template, Map<String, Setting> settings) {
    Matcher m = Pattern.compile("\\{([a-z0-9.-]+)(?::([^}]+))?}").matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      Setting s = settings.get(m.group(1));
      if (s == null || s.defaultValue() == null) {
        throw new IllegalStateException(m.group(1) + " has no default in the code");
      }
      String value = s.defaultValue();
      if (",".equals(m.group(2))) {
        value = String.format("%,d", Long.parseLong(value));
      } else if ("MiB".equals(m.group(2))) {
        value = Long.parseLong(value) / (1024 * 1024) + " MiB";
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    return m.appendTail(out).toString();
  }

  /** The Markdown pages of the repository. */
  static List<Path> docs() {
    try (Stream<Path> files = Files.walk(REPO)) {
      return files
          .filter(p -> p.toString().endsWith(".md"))
          .filter(
              p ->
                  REPO.relativize(p).toString().split("/").length < 4
                      && Stream.of("target", "node_modules", ".git", "run", "data")
                          .noneMatch(d -> REPO.relativize(p).startsWith(d)))
          .filter(p -> !REPO.relativize(p).toString().contains("/target/"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The text of the launch scripts, whose own variables the docs name too. */
  private static String launcherVariables() {
    return Stream.of("pipeline", "bench/run", "faults/run")
        .map(REPO::resolve)
        .filter(Files::isRegularFile)
        .map(DocsTest::read)
        .collect(Collectors.joining("\n"));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
