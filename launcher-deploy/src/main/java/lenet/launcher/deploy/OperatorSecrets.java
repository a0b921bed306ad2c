package lenet.launcher.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import lenet.contract.wire.SigningKeys;

/**
 * The Secrets an operator creates once before applying {@code deploy/} (its README, "Before you
 * apply", step 4), made the same way: the API token ({@code lenet-api-token}, key {@code token}),
 * the trainer's checkpoint signing key pair ({@code lenet-checkpoint-signing}) and the inference
 * fleet's control-record key pair ({@code lenet-control-signing-key}), each pair made by {@code
 * SigningKeys} with its key files as the Secret's keys. Only those the files use and do not declare
 * themselves are made.
 */
final class OperatorSecrets {

  static final String API_TOKEN = "lenet-api-token";
  static final String CHECKPOINT_SIGNING = "lenet-checkpoint-signing";
  static final String CONTROL_SIGNING = "lenet-control-signing-key";

  private OperatorSecrets() {}

  static void create(Deployment deployment, SecretStore secrets) {
    if (!secrets.has(API_TOKEN)) {
      byte[] b = new byte[24];
      new SecureRandom().nextBytes(b);
      secrets.put(API_TOKEN, "token", HexFormat.of().formatHex(b));
    }
    keyPair(secrets, CHECKPOINT_SIGNING, "checkpoint-signing.key");
    keyPair(secrets, CONTROL_SIGNING, "control-signing.key");
  }

  private static void keyPair(SecretStore secrets, String secret, String file) {
    if (secrets.has(secret)) {
      return;
    }
    try {
      Path dir = Files.createTempDirectory("operator-keys-");
      try {
        Path key = dir.resolve(file);
        SigningKeys.loadOrCreate(key);
        secrets.put(secret, file, Files.readAllBytes(key));
        secrets.put(secret, file + ".pub", Files.readAllBytes(SigningKeys.publicKeyFileOf(key)));
      } finally {
        try (var files = Files.list(dir)) {
          for (Path f : (Iterable<Path>) files::iterator) {
            Files.delete(f);
          }
        }
        Files.delete(dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
