package lenet.launcher.deploy;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import lenet.kafka.AdminReconcile;
import lenet.kafka.KafkaSecurity;
import lenet.launcher.deploy.KafkaShape.AclSpec;
import lenet.launcher.deploy.KafkaShape.TopicSpec;
import lenet.launcher.deploy.KafkaShape.UserSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * What Strimzi's Topic and User Operators do with a deployment's {@code KafkaTopic} and {@code
 * KafkaUser} resources, done as the cluster's admin through Kafka's admin API: each topic created
 * with its partitions, replicas and configs; each user given a SCRAM-SHA-512 credential (a random
 * password, kept across reconciliations) and exactly its ACLs (rules the resource no longer has are
 * removed), and its Secret ({@code password}, {@code sasl.jaas.config}).
 */
final class KafkaOperators {

  private static final int ITERATIONS = 4096;
  private static final long TIMEOUT_S = 60;

  private KafkaOperators() {}

  static void createTopics(Admin admin, List<TopicSpec> topics)
      throws InterruptedException, ExecutionException, TimeoutException {
    List<NewTopic> declared = new ArrayList<>();
    for (TopicSpec t : topics) {
      declared.add(
          new NewTopic(t.name(), t.partitions(), (short) t.replicas()).configs(t.config()));
    }
    AdminReconcile.createMissingTopics(admin, declared);
  }

  /** Makes {@code users}' credentials, Secrets and ACLs what the resources say. */
  static void reconcileUsers(Admin admin, List<UserSpec> users, SecretStore secrets)
      throws InterruptedException, ExecutionException, TimeoutException {
    List<UserScramCredentialUpsertion> credentials = new ArrayList<>();
    for (UserSpec u : users) {
      String password =
          secrets
              .get(u.secret(), "password")
              .map(b -> new String(b, java.nio.charset.StandardCharsets.UTF_8))
              .orElseGet(KafkaOperators::randomPassword);
      credentials.add(
          new UserScramCredentialUpsertion(
              u.name(),
              new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS),
              password));
      secrets.put(u.secret(), "password", password);
      secrets.put(u.secret(), "sasl.jaas.config", KafkaSecurity.scramJaas(u.name(), password));
    }
    if (!credentials.isEmpty()) {
      admin
          .alterUserScramCredentials(new ArrayList<>(credentials))
          .all()
          .get(TIMEOUT_S, TimeUnit.SECONDS);
    }
    Set<String> principals = new LinkedHashSet<>();
    List<AclBinding> wanted = new ArrayList<>();
    for (UserSpec u : users) {
      principals.add("User:" + u.name());
      for (AclSpec a : u.acls()) {
        wanted.add(binding(u.name(), a));
      }
    }
    AdminReconcile.reconcileAcls(admin, principals, wanted);
  }

  static AclBinding binding(String user, AclSpec a) {
    return new AclBinding(
        new ResourcePattern(
            constant(ResourceType.values(), a.resourceType()),
            a.name(),
            a.patternType().equals("prefix")
                ? PatternType.PREFIXED
                : constant(PatternType.values(), a.patternType())),
        new AccessControlEntry(
            "User:" + user,
            a.host(),
            constant(AclOperation.values(), a.operation()),
            AclPermissionType.ALLOW));
  }

  /** The constant Strimzi's spelling names ({@code DescribeConfigs} for DESCRIBE_CONFIGS). */
  private static <E extends Enum<E>> E constant(E[] values, String name) {
    String wanted = name.replace("_", "").replace("-", "");
    return Arrays.stream(values)
        .filter(v -> v.name().replace("_", "").equalsIgnoreCase(wanted))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "not one of " + Arrays.toString(values) + ": " + name));
  }

  private static String randomPassword() {
    byte[] b = new byte[18];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }
}
