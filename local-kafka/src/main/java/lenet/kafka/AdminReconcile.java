package lenet.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * What an operator of a secured cluster does with a declared table of topics and ACLs, as its
 * admin: creates the topics that do not exist yet (settings of existing ones are left alone), and
 * makes the ACLs of the declared principals exactly the declared ones (missing ones added, others
 * of those principals removed; ACLs of any other principal left alone). Used by the secured local
 * broker ({@link PipelineAccess}) and by a booted deployment (the Topic and User Operators' work).
 */
public final class AdminReconcile {

  private static final long TIMEOUT_S = 30;

  private AdminReconcile() {}

  public static void createMissingTopics(Admin admin, List<NewTopic> topics)
      throws InterruptedException, ExecutionException, TimeoutException {
    Set<String> existing = admin.listTopics().names().get(TIMEOUT_S, TimeUnit.SECONDS);
    List<NewTopic> missing = new ArrayList<>();
    for (NewTopic t : topics) {
      if (!existing.contains(t.name())) {
        missing.add(t);
      }
    }
    for (var created : admin.createTopics(missing).values().values()) {
      try {
        created.get(TIMEOUT_S, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
    }
  }

  /** Makes the ACLs of {@code principals} ({@code User:<name>}) exactly {@code wanted}. */
  public static void reconcileAcls(Admin admin, Set<String> principals, List<AclBinding> wanted)
      throws InterruptedException, ExecutionException, TimeoutException {
    Collection<AclBinding> current =
        admin.describeAcls(AclBindingFilter.ANY).values().get(TIMEOUT_S, TimeUnit.SECONDS);
    List<AclBindingFilter> stale =
        current.stream()
            .filter(b -> principals.contains(b.entry().principal()) && !wanted.contains(b))
            .map(AclBinding::toFilter)
            .toList();
    if (!stale.isEmpty()) {
      admin.deleteAcls(stale).all().get(TIMEOUT_S, TimeUnit.SECONDS);
    }
    List<AclBinding> absent = wanted.stream().filter(b -> !current.contains(b)).distinct().toList();
    if (!absent.isEmpty()) {
      admin.createAcls(absent).all().get(TIMEOUT_S, TimeUnit.SECONDS);
    }
  }
}
