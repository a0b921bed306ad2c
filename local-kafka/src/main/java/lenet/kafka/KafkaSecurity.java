package lenet.kafka;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A local Kafka with encrypted, authenticated clients and no open door: every listener is {@code
 * SASL_SSL} (TLS with a certificate of a CA generated here), the clients' with SCRAM-SHA-512 users,
 * the KRaft controllers' with SASL/PLAIN for one principal, {@code controller}, that only the nodes
 * know (a controller cannot check SCRAM on its own listener: SCRAM credentials live in the metadata
 * log it serves). Kafka's {@code StandardAuthorizer} decides every request: {@code admin} and
 * {@code controller} are super users, everyone else gets exactly the ACLs of {@link PipelineAccess}
 * and nothing where no ACL says so. Everything lives in one directory, created once (under a file
 * lock, so the nodes of a cluster starting together create it once) and kept with the broker's
 * data: SCRAM credentials are stored in the cluster's metadata when it is formatted, so this
 * directory and the data belong together.
 *
 * <pre>
 * ca.p12, ca.pem        the CA (key in the PKCS#12 store; its certificate is what clients trust)
 * broker.p12            the brokers' key and certificate (127.0.0.1, localhost), signed by the CA
 * secrets.properties    the stores' password, every user's password and the controller's
 * &lt;user&gt;.properties     a Kafka client configuration for that user (kafka-*.sh --command-config)
 * &lt;user&gt;.env            the same as KAFKA_* environment variables, for the services
 * </pre>
 *
 * Users: {@code admin} (the brokers among themselves, and tooling: it creates the topics and the
 * ACLs), and the users of {@link PipelineAccess} (one per service, and {@code client} for tools,
 * tests and kcat). The directory is its owner's alone from the moment it is made (so no other user
 * can reach what keytool writes into it); every file this class writes is created readable by its
 * owner only before a byte is written to it, and keytool's stores are made so once written. The
 * certificates are made with the JDK's keytool; nothing leaves this machine.
 */
public final class KafkaSecurity {

  public static final String MECHANISM = "SCRAM-SHA-512";
  public static final String ADMIN = "admin";

  /** The principal of the nodes' controller traffic (SASL/PLAIN on the controller listener). */
  static final String CONTROLLER = "controller";

  private static final String CONTROLLER_SECRET = "controller.password";

  /** Every SCRAM user: {@link #ADMIN} and the users {@link PipelineAccess} gives ACLs to. */
  public static final List<String> USERS = users();

  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR =
      PosixFilePermissions.fromString("rwx------");

  private final Path dir;
  private final Properties secrets;
  private final List<String> users;

  private KafkaSecurity(Path dir, Properties secrets) {
    this.dir = dir;
    this.secrets = secrets;
    this.users = usersOf(secrets);
  }

  /**
   * The security in {@code dir} with {@link #USERS}, created there first if it is not (a directory
   * made with {@link #prepareAdminOnly} keeps its one user).
   */
  public static KafkaSecurity prepare(Path dir) {
    return prepare(dir, USERS);
  }

  /**
   * The security in {@code dir} with {@link #ADMIN} as its only SCRAM user: for a cluster whose
   * users someone else creates (as Strimzi's User Operator does, through the admin API), so no user
   * exists that its files do not declare.
   */
  public static KafkaSecurity prepareAdminOnly(Path dir) {
    return prepare(dir, List.of(ADMIN));
  }

  private static KafkaSecurity prepare(Path dir, List<String> users) {
    Path root = dir.toAbsolutePath();
    try {
      ownerOnlyDirectory(root);
      try (FileChannel lockFile =
              FileChannel.open(
                  root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock ignored = lockFile.lock()) {
        Path secretsFile = root.resolve("secrets.properties");
        if (!Files.exists(secretsFile)) {
          create(root, users);
        }
        Properties secrets = new Properties();
        try (var in = Files.newInputStream(secretsFile)) {
          secrets.load(in);
        }
        if (secrets.getProperty(CONTROLLER_SECRET) == null) {
          // Made before the controller listener required a login: give it its password now.
          secrets.setProperty(CONTROLLER_SECRET, randomSecret());
          storeSecrets(root, secrets);
        }
        return new KafkaSecurity(root, secrets);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare Kafka security in " + root, e);
    }
  }

  public Path dir() {
    return dir;
  }

  /** The CA certificate (PEM): what a client trusts. */
  public Path caCertificate() {
    return dir.resolve("ca.pem");
  }

  /** {@code SCRAM-SHA-512=[name=...,password=...]} per user, for formatting the metadata. */
  public List<String> scramArguments() {
    List<String> out = new ArrayList<>();
    for (String user : users) {
      out.add(MECHANISM + "=[name=" + user + ",password=" + password(user) + "]");
    }
    return out;
  }

  /**
   * The node settings of the clients' SASL_SSL listener named {@code listener} and the controller
   * listener named {@code controllerListener} (both lower case; both SASL_SSL in the node's
   * protocol map), and of the authorizer.
   */
  public Map<String, String> brokerSettings(String listener, String controllerListener) {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("sasl.enabled.mechanisms", MECHANISM);
    s.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
    s.put(
        "listener.name." + listener + "." + MECHANISM.toLowerCase() + ".sasl.jaas.config",
        jaas(ADMIN));
    // The controller listener: PLAIN, one user (the nodes themselves), over TLS.
    s.put("listener.name." + controllerListener + ".sasl.enabled.mechanisms", "PLAIN");
    s.put("sasl.mechanism.controller.protocol", "PLAIN");
    String controllerPassword = secrets.getProperty(CONTROLLER_SECRET);
    s.put(
        "listener.name." + controllerListener + ".plain.sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
            + CONTROLLER
            + "\" password=\""
            + controllerPassword
            + "\" user_"
            + CONTROLLER
            + "=\""
            + controllerPassword
            + "\";");
    s.put("ssl.keystore.location", dir.resolve("broker.p12").toString());
    s.put("ssl.keystore.type", "PKCS12");
    s.put("ssl.keystore.password", storePassword());
    s.put("ssl.key.password", storePassword());
    s.put("ssl.truststore.location", caCertificate().toString());
    s.put("ssl.truststore.type", "PEM");
    // Every request is authorized: the nodes and the admin may do anything, a user what its ACLs
    // say, and where no ACL speaks, nobody.
    s.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    s.put("super.users", "User:" + ADMIN + ";User:" + CONTROLLER);
    s.put("allow.everyone.if.no.acl.found", "false");
    return s;
  }

  /** What a Kafka client of {@code user} sets besides the bootstrap servers. */
  public Map<String, Object> clientSettings(String user) {
    return clientSettings(user, password(user));
  }

  /**
   * What a Kafka client of a SCRAM user this directory does not hold ({@code user}, {@code
   * password}: made by someone else, an operator) sets besides the bootstrap servers.
   */
  public Map<String, Object> clientSettings(String user, String password) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("security.protocol", "SASL_SSL");
    s.put("sasl.mechanism", MECHANISM);
    s.put("sasl.jaas.config", scramJaas(user, password));
    s.put("ssl.truststore.type", "PEM");
    s.put("ssl.truststore.location", caCertificate().toString());
    return s;
  }

  /**
   * {@link #clientSettings} of {@code user} as the environment variables a Quarkus service maps to
   * its {@code kafka.*} settings ({@code security.protocol} -> {@code KAFKA_SECURITY_PROTOCOL}).
   */
  public Map<String, String> environment(String user) {
    Map<String, String> env = new LinkedHashMap<>();
    clientSettings(user)
        .forEach((k, v) -> env.put("KAFKA_" + k.toUpperCase().replace('.', '_'), v.toString()));
    return env;
  }

  String password(String user) {
    String p = secrets.getProperty("user." + user);
    if (p == null) {
      throw new IllegalArgumentException("no Kafka user '" + user + "' (users: " + users + ")");
    }
    return p;
  }

  private String storePassword() {
    return secrets.getProperty("store.password");
  }

  private String jaas(String user) {
    return scramJaas(user, password(user));
  }

  /** The {@code sasl.jaas.config} of SCRAM user {@code user} with {@code password}. */
  public static String scramJaas(String user, String password) {
    return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
        + user
        + "\" password=\""
        + password
        + "\";";
  }

  // ---------------------------------------------------------------------------------- creation

  private static void create(Path dir, List<String> users) throws IOException {
    Properties secrets = new Properties();
    secrets.setProperty("store.password", randomSecret());
    secrets.setProperty(CONTROLLER_SECRET, randomSecret());
    for (String user : users) {
      secrets.setProperty("user." + user, randomSecret());
    }
    String pass = secrets.getProperty("store.password");
    Path ca = dir.resolve("ca.p12");
    Path broker = dir.resolve("broker.p12");
    Path csr = dir.resolve("broker.csr");
    Path signed = dir.resolve("broker.pem");
    Path caPem = dir.resolve("ca.pem");
    Files.deleteIfExists(ca);
    Files.deleteIfExists(broker);
    // The CA, its certificate (what clients trust), and the brokers' key signed by it.
    newKeyPair(pass, ca, "ca", "CN=lenet local Kafka CA", "-ext", "bc:c");
    keytool(pass, ca, "-exportcert", "-rfc", "-alias", "ca", "-file", caPem.toString());
    newKeyPair(pass, broker, "broker", "CN=localhost");
    keytool(pass, broker, "-certreq", "-alias", "broker", "-file", csr.toString());
    keytool(
        pass,
        ca,
        "-gencert",
        "-alias",
        "ca",
        "-infile",
        csr.toString(),
        "-outfile",
        signed.toString(),
        "-rfc",
        "-validity",
        VALIDITY_DAYS,
        "-ext",
        "SAN=ip:127.0.0.1,dns:localhost",
        "-ext",
        "KU=digitalSignature,keyAgreement",
        "-ext",
        "EKU=serverAuth,clientAuth");
    keytool(pass, broker, "-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString());
    keytool(pass, broker, "-importcert", "-alias", "broker", "-file", signed.toString());
    Files.delete(csr);
    Files.delete(signed);
    for (Path p : List.of(ca, broker)) {
      ownerOnly(p);
    }
    KafkaSecurity security = new KafkaSecurity(dir, secrets);
    for (String user : users) {
      StringBuilder props = new StringBuilder("# Kafka client settings of user " + user + "\n");
      security
          .clientSettings(user)
          .forEach((k, v) -> props.append(k).append('=').append(v).append('\n'));
      StringBuilder env = new StringBuilder("# The same as environment variables (KAFKA_*)\n");
      security
          .environment(user)
          .forEach(
              (k, v) -> env.append(k).append("='").append(v.replace("'", "'\\''")).append("'\n"));
      write(dir.resolve(user + ".properties"), props.toString());
      write(dir.resolve(user + ".env"), env.toString());
    }
    // Last: its presence says the directory is complete.
    storeSecrets(dir, secrets);
  }

  private static void storeSecrets(Path dir, Properties secrets) throws IOException {
    StringWriter text = new StringWriter();
    secrets.store(text, "passwords of the local Kafka's stores, SCRAM users and controller");
    write(dir.resolve("secrets.properties"), text.toString());
  }

  /**
   * Writes {@code text} to {@code file} through a temporary file that is created readable by its
   * owner only before anything is written to it, then moved into place: no other user can ever read
   * a byte of it, and a reader never sees half a file.
   */
  private static void write(Path file, String text) throws IOException {
    Path tmp;
    try {
      tmp =
          Files.createTempFile(
              file.getParent(),
              file.getFileName().toString(),
              ".tmp",
              PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: its own access rules apply
      tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
    }
    try {
      Files.writeString(tmp, text);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Creates {@code dir} (and its parents) accessible to its owner only, or makes an existing one
   * so, before anything secret is put in it: keytool writes its stores with the default
   * permissions, and nobody else can reach them inside.
   */
  private static void ownerOnlyDirectory(Path dir) throws IOException {
    Files.createDirectories(dir.getParent());
    try {
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
      } catch (FileAlreadyExistsException e) {
        Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
      }
    } catch (UnsupportedOperationException e) {
      Files.createDirectories(dir);
    }
  }

  private static void ownerOnly(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, OWNER_ONLY);
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: its own access rules apply
    }
  }

  /** The SCRAM users this directory holds passwords of, {@link #ADMIN} first. */
  private static List<String> usersOf(Properties secrets) {
    List<String> out = new ArrayList<>(List.of(ADMIN));
    secrets.stringPropertyNames().stream()
        .filter(k -> k.startsWith("user.") && !k.equals("user." + ADMIN))
        .map(k -> k.substring("user.".length()))
        .sorted()
        .forEach(out::add);
    return List.copyOf(out);
  }

  /** The SCRAM users: {@link #ADMIN} first, then every user {@link PipelineAccess} names. */
  private static List<String> users() {
    List<String> users = new ArrayList<>();
    users.add(ADMIN);
    users.addAll(PipelineAccess.load().users());
    return List.copyOf(users);
  }

  private static String randomSecret() {
    byte[] b = new byte[18];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** keytool reads the stores' password from its environment, never from its command line. */
  private static final String PASS_VAR = "LENET_KAFKA_STORE_PASSWORD";

  private static final String VALIDITY_DAYS = "3650";

  /** An EC (P-256) key pair with a self-signed certificate under {@code alias} in {@code store}. */
  private static void newKeyPair(
      String password, Path store, String alias, String dname, String... extra) throws IOException {
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "-genkeypair",
            "-alias",
            alias,
            "-keyalg",
            "EC",
            "-groupname",
            "secp256r1",
            "-dname",
            dname,
            "-validity",
            VALIDITY_DAYS,
            "-storetype",
            "PKCS12"));
    args.addAll(List.of(extra));
    keytool(password, store, args.toArray(String[]::new));
  }

  /**
   * Runs keytool on the PKCS#12 {@code store} (whose keys share its password, read from the
   * environment).
   */
  private static void keytool(String password, Path store, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("-keystore", store.toString(), "-storepass:env", PASS_VAR));
    ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
    builder.environment().put(PASS_VAR, password);
    Process p = builder.start();
    try {
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("keytool " + args[0] + " failed: " + out.strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running keytool", e);
    }
  }
}
