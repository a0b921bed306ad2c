package lenet.kafka;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The pipeline's topics and its users' ACLs, as the secured local broker creates them before any
 * service starts: the services' users may not create topics (as on the deployed cluster, where
 * Strimzi does), so the admin does, and each user gets exactly its ACLs.
 *
 * <p>A copy, read from the resource {@code pipeline-access.txt}: rendered from pipeline-contract's
 * topic and access tables ({@code Topic}, {@code KafkaUser}), and pipeline-contract's {@code
 * KafkaAccessCopiesTest} fails when it differs from them. (This module cannot depend on
 * pipeline-contract, whose tests run on this broker.) Lines:
 *
 * <pre>
 * topic &lt;name&gt; &lt;partitions&gt; [&lt;config&gt;=&lt;value&gt; ...]
 * acl &lt;user&gt; &lt;resource type&gt; &lt;pattern type&gt; &lt;resource name&gt; &lt;operation&gt;
 * </pre>
 */
final class PipelineAccess {

  private static final String RESOURCE = "pipeline-access.txt";

  /** A topic to create. */
  record TopicSpec(String name, int partitions, Map<String, String> configs) {}

  private final List<TopicSpec> topics;
  private final List<AclBinding> acls;

  private PipelineAccess(List<TopicSpec> topics, List<AclBinding> acls) {
    this.topics = List.copyOf(topics);
    this.acls = List.copyOf(acls);
  }

  /** The table of the resource {@value #RESOURCE}. */
  static PipelineAccess load() {
    try (InputStream in = PipelineAccess.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("no " + RESOURCE + " next to " + PipelineAccess.class);
      }
      return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  private static PipelineAccess parse(BufferedReader reader) throws IOException {
    List<TopicSpec> topics = new ArrayList<>();
    List<AclBinding> acls = new ArrayList<>();
    String line;
    while ((line = reader.readLine()) != null) {
      String[] w = line.strip().split("\\s+");
      if (w[0].isEmpty() || w[0].startsWith("#")) {
        continue;
      }
      switch (w[0]) {
        case "topic" -> {
          Map<String, String> configs = new LinkedHashMap<>();
          for (int i = 3; i < w.length; i++) {
            String[] kv = w[i].split("=", 2);
            configs.put(kv[0], kv[1]);
          }
          topics.add(new TopicSpec(w[1], Integer.parseInt(w[2]), configs));
        }
        case "acl" -> {
          if (w.length != 6) {
            throw new IllegalStateException(RESOURCE + ": not an ACL line: " + line);
          }
          acls.add(
              new AclBinding(
                  new ResourcePattern(
                      ResourceType.fromString(w[2]), w[4], PatternType.fromString(w[3])),
                  new AccessControlEntry(
                      "User:" + w[1],
                      "*",
                      AclOperation.fromString(w[5]),
                      AclPermissionType.ALLOW)));
        }
        default -> throw new IllegalStateException(RESOURCE + ": unknown line: " + line);
      }
    }
    return new PipelineAccess(topics, acls);
  }

  List<TopicSpec> topics() {
    return topics;
  }

  List<AclBinding> acls() {
    return acls;
  }

  /** The users that have ACLs, in the order the table names them. */
  List<String> users() {
    Set<String> users = new LinkedHashSet<>();
    for (AclBinding b : acls) {
      users.add(b.entry().principal().substring("User:".length()));
    }
    return List.copyOf(users);
  }

  /**
   * Creates the topics that do not exist yet, and makes the ACLs of this table's users exactly the
   * table's: missing ones are added, ones the table no longer has are removed (ACLs of other
   * principals, added by an operator, are left alone). Run by a super user at every start, so a
   * broker whose data predates a change of the table follows it. New topics get {@code
   * replicationFactor} copies of each partition.
   */
  void apply(Admin admin, short replicationFactor)
      throws InterruptedException, ExecutionException, TimeoutException {
    List<NewTopic> declared = new ArrayList<>();
    for (TopicSpec t : topics) {
      declared.add(new NewTopic(t.name(), t.partitions(), replicationFactor).configs(t.configs()));
    }
    AdminReconcile.createMissingTopics(admin, declared);
    Set<String> principals = new LinkedHashSet<>();
    users().forEach(u -> principals.add("User:" + u));
    AdminReconcile.reconcileAcls(admin, principals, acls);
  }
}
