package lenet.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnvFileTest {

  @TempDir Path dir;

  @Test
  void readsWhatAShellWouldSource() throws Exception {
    Path file = dir.resolve("inference.env");
    Files.writeString(
        file,
        "# The same as environment variables (KAFKA_*)\n"
            + "KAFKA_SASL_USERNAME='inference'\n"
            + "KAFKA_SASL_JAAS_CONFIG='x required password=\"p'\\''q\";'\n");
    assertThat(EnvFile.read(file))
        .containsEntry("KAFKA_SASL_USERNAME", "inference")
        .containsEntry("KAFKA_SASL_JAAS_CONFIG", "x required password=\"p'q\";")
        .hasSize(2);
  }
}
