package lenet.contract.wire;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The checkpoint signing keys: Ed25519 from the JDK, kept as PEM files (PKCS#8 private key, X.509
 * public key: what {@code openssl pkey} reads and writes). The private key file is readable by its
 * owner only; the public key sits beside it as {@code <file>.pub}. Uses nothing but the JDK, so
 * {@code java -cp pipeline-contract.jar lenet.contract.wire.SigningKeys <file>} creates a pair
 * before any service starts (as {@code ./pipeline} does).
 */
public final class SigningKeys {

  public static final String ALGORITHM = "Ed25519";

  private SigningKeys() {}

  /** Creates the pair at {@code privateKeyFile} (and {@code .pub}) unless it exists. */
  public static void main(String[] args) {
    if (args.length != 1) {
      System.err.println(
          "usage: SigningKeys <private-key-file>   (the public key goes to <file>.pub)");
      System.exit(2);
    }
    KeyPair pair = loadOrCreate(Path.of(args[0]));
    System.out.println(encode(pair.getPublic()));
  }

  /** A fresh Ed25519 pair. */
  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JDK since 15 has Ed25519", e);
    }
  }

  /**
   * The pair kept at {@code privateKeyFile} and {@code <privateKeyFile>.pub}; created (owner-only
   * permissions) when neither exists.
   *
   * @throws IllegalStateException when only one of the two files exists, or either is unreadable
   */
  public static KeyPair loadOrCreate(Path privateKeyFile) {
    Path publicKeyFile = publicKeyFileOf(privateKeyFile);
    try {
      if (!Files.exists(privateKeyFile) && !Files.exists(publicKeyFile)) {
        KeyPair pair = generate();
        Path dir = privateKeyFile.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".signing", ".tmp");
        try {
          Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
          // not a POSIX file system: its own access rules apply
        }
        Files.writeString(tmp, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        Files.writeString(publicKeyFile, pem("PUBLIC KEY", pair.getPublic().getEncoded()));
        Files.move(tmp, privateKeyFile);
        return pair;
      }
      if (!Files.exists(privateKeyFile) || !Files.exists(publicKeyFile)) {
        throw new IllegalStateException(
            "signing key pair incomplete: "
                + privateKeyFile
                + " and "
                + publicKeyFile
                + " must both exist (or neither, to create a new pair)");
      }
      PrivateKey privateKey =
          KeyFactory.getInstance(ALGORITHM)
              .generatePrivate(new PKCS8EncodedKeySpec(der(Files.readString(privateKeyFile))));
      return new KeyPair(publicKey(Files.readString(publicKeyFile)), privateKey);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or write the signing key " + privateKeyFile, e);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalStateException("not an Ed25519 key pair: " + privateKeyFile, e);
    }
  }

  /** Where the public key of {@code privateKeyFile} is kept. */
  public static Path publicKeyFileOf(Path privateKeyFile) {
    return privateKeyFile.resolveSibling(privateKeyFile.getFileName() + ".pub");
  }

  /**
   * A public key from its PEM file's text or from the bare base64 of its X.509 encoding (what
   * {@link #encode} gives, short enough for an environment variable).
   */
  public static PublicKey publicKey(String text) {
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der(text)));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "not an Ed25519 public key (PEM or base64 X.509): "
              + text.substring(0, Math.min(40, text.length())),
          e);
    }
  }

  /** The bare base64 of a public key's X.509 encoding (one line, 60 characters). */
  public static String encode(PublicKey key) {
    return Base64.getEncoder().encodeToString(key.getEncoded());
  }

  /** A short name of a key: the first 8 bytes of its encoding's SHA-256, in hex. */
  public static String id(PublicKey key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  private static byte[] der(String text) {
    String body = text.replaceAll("-----(BEGIN|END) [A-Z ]+-----", "").replaceAll("\\s", "");
    return Base64.getDecoder().decode(body);
  }
}
