package lenet.e2e.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import lenet.e2e.deploy.ServiceSettings;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/settings.md} is rendered from the code ({@link SettingsReference}) and this test
 * fails when it differs in anything: a key added, renamed or removed, a default or a javadoc
 * changed. Rewrite it with {@link SettingsReference#REWRITE} ({@code -Dsettings.write=true}).
 */
class SettingsReferenceTest {

  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  private static final Path SETTINGS = REPO.resolve("docs/settings.md");

  @Test
  void theSettingsReferenceIsRenderedFromTheCode() throws IOException {
    String expected = SettingsReference.render(ServiceSettings.onClassPath(), new SourceDocs(REPO));
    if (Boolean.getBoolean("settings.write")) {
      Files.createDirectories(SETTINGS.getParent());
      Files.writeString(SETTINGS, expected);
    }
    assertThat(Files.exists(SETTINGS) ? Files.readString(SETTINGS) : "")
        .as("docs/settings.md is rendered from the code (rewrite: %s)", SettingsReference.REWRITE)
        .isEqualTo(expected);
  }
}
