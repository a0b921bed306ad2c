package lenet.launcher.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The Secrets of a booted deployment, as the cluster would hold them: those the files declare,
 * those Strimzi's operators make (the cluster CA's certificate, each user's password), and those an
 * operator creates before applying the files (deploy/README.md). A container that names a Secret or
 * key that is not here does not start, as on Kubernetes.
 */
final class SecretStore {

  private final Map<String, Map<String, byte[]>> secrets = new LinkedHashMap<>();

  void put(String secret, String key, byte[] value) {
    secrets.computeIfAbsent(secret, k -> new LinkedHashMap<>()).put(key, value.clone());
  }

  void put(String secret, String key, String value) {
    put(secret, key, value.getBytes(StandardCharsets.UTF_8));
  }

  boolean has(String secret) {
    return secrets.containsKey(secret);
  }

  Optional<byte[]> get(String secret, String key) {
    return Optional.ofNullable(secrets.getOrDefault(secret, Map.of()).get(key)).map(byte[]::clone);
  }

  /** The value of {@code key} in {@code secret} as text; fails as the kubelet would. */
  String text(String secret, String key) {
    if (!secrets.containsKey(secret)) {
      throw new IllegalStateException(
          "Secret " + secret + " does not exist (CreateContainerConfigError)");
    }
    return new String(
        get(secret, key)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "Secret "
                            + secret
                            + " has no key "
                            + key
                            + " (CreateContainerConfigError)")),
        StandardCharsets.UTF_8);
  }

  /**
   * Writes {@code secret}'s keys as files into {@code dir}: {@code items} maps key to file name
   * (empty: every key as itself), each file with permission bits {@code mode}.
   */
  void project(String secret, Map<String, String> items, int mode, Path dir) {
    if (!secrets.containsKey(secret)) {
      throw new IllegalStateException("Secret " + secret + " does not exist (FailedMount)");
    }
    Map<String, String> files = new LinkedHashMap<>(items);
    if (files.isEmpty()) {
      secrets.get(secret).keySet().forEach(k -> files.put(k, k));
    }
    try {
      Files.createDirectories(dir);
      for (Map.Entry<String, String> f : files.entrySet()) {
        byte[] value =
            get(secret, f.getKey())
                .orElseThrow(
                    () ->
                        new IllegalStateException(
                            "Secret " + secret + " has no key " + f.getKey() + " (FailedMount)"));
        Path file = dir.resolve(f.getValue());
        Files.createDirectories(file.getParent());
        Files.write(file, value);
        permissions(file, mode);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot project Secret " + secret + " into " + dir, e);
    }
  }

  private static void permissions(Path file, int mode) throws IOException {
    Set<PosixFilePermission> p = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] bits = {
      PosixFilePermission.OTHERS_EXECUTE,
      PosixFilePermission.OTHERS_WRITE,
      PosixFilePermission.OTHERS_READ,
      PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.GROUP_WRITE,
      PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE,
      PosixFilePermission.OWNER_WRITE,
      PosixFilePermission.OWNER_READ
    };
    for (int i = 0; i < bits.length; i++) {
      if ((mode & (1 << i)) != 0) {
        p.add(bits[i]);
      }
    }
    try {
      Files.setPosixFilePermissions(file, p);
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system
    }
  }
}
