package lenet.launcher.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A service image's ENV and JVM options, read from its Dockerfile. */
class ImageTest {

  @Test
  void theInferenceImagesEnvironmentAndJvmOptions() {
    Image image = Image.of(Path.of(".."), "inference");
    assertThat(image.env())
        .containsEntry("QUARKUS_HTTP_HOST", "0.0.0.0")
        .containsEntry("DJL_CACHE_DIR", "/var/cache/djl")
        .containsEntry("JAVA_OPTS_APPEND", "");
    assertThat(Image.jvmOptions(image.env()))
        .contains("-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError");
  }
}
