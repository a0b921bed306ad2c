package lenet.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Platform;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {

  @Test
  void glibcTakesTheSettingsOnceOnLinux() {
    boolean first = NativeMemory.keepFreedMemory();
    assertThat(first).isEqualTo(Platform.isLinux() && !isMusl());
    assertThat(NativeMemory.keepFreedMemory()).isEqualTo(first);
  }

  private static boolean isMusl() {
    return java.nio.file.Files.exists(java.nio.file.Path.of("/lib/ld-musl-x86_64.so.1"))
        || java.nio.file.Files.exists(java.nio.file.Path.of("/lib/ld-musl-aarch64.so.1"));
  }
}
