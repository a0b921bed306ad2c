package lenet.contract.topics;

import static org.apache.kafka.common.acl.AclOperation.CREATE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE_CONFIGS;
import static org.apache.kafka.common.acl.AclOperation.READ;
import static org.apache.kafka.common.acl.AclOperation.WRITE;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Who may do what on the pipeline's Kafka, declared once next to the topic table it speaks of: each
 * user of a cluster with authorization and exactly the {@link Acl}s it needs. Nobody here may
 * create or delete topics, change configs or ACLs: the cluster's admin does that (Strimzi's
 * operators in {@code deploy/}; user {@code admin} of the secured local broker, which creates the
 * topics before the services start).
 *
 * <p>The one source of the ACLs: the copies are rendered from it, and pipeline-contract's {@code
 * KafkaAccessCopiesTest} fails when one differs: {@code deploy/base/users.yaml} (Strimzi
 * KafkaUsers, the {@link #deployedName()}s) and local-kafka's {@code pipeline-access.txt} (what the
 * secured local broker applies for the {@link #localName()}s). ACLs name the topics' default names,
 * the services' default consumer groups and transactional-id prefix: a cluster with authorization
 * keeps those defaults (or changes this table).
 */
public enum KafkaUser {
  INGEST(
      "ingest",
      "ingest-service",
      service(
          Acl.topic(
              Topic.MNIST_MANIFESTS,
              "Finds the complete copy that is there already; marks a new copy complete.",
              READ,
              WRITE),
          Acl.topic(Topic.MNIST_TRAIN, "Writes the dataset's splits.", WRITE),
          Acl.topic(Topic.MNIST_DEV, "", WRITE),
          Acl.topic(Topic.MNIST_TEST, "", WRITE))),
  TRAINER(
      "trainer",
      "trainer-service",
      service(
          Acl.topic(Topic.MNIST_MANIFESTS, "A run reads one complete copy of the dataset.", READ),
          Acl.topic(Topic.MNIST_TRAIN, "", READ),
          Acl.topic(Topic.MNIST_DEV, "", READ),
          Acl.topic(Topic.MNIST_TEST, "", READ),
          Acl.topic(
              Topic.TRAINING_COMMANDS,
              "Runs the commands; its HTTP form (POST /api/runs) publishes them.",
              READ,
              WRITE),
          Acl.topic(
              Topic.TRAINING_EVENTS,
              "Publishes each run's progress, and reads it back as the run history.",
              READ,
              WRITE),
          Acl.topic(
              Topic.MODEL_CHECKPOINTS,
              "The only writer: checkpoints and version claims; reads a checkpoint back to resume a"
                  + " run.",
              READ,
              WRITE),
          Acl.topic(
              Topic.DIGITS_LABELS,
              "A run with feedback reads the labels (assigned partitions, no group)...",
              READ),
          Acl.topic(Topic.DIGITS_IMAGES, "...and finds the labelled images,", READ),
          Acl.topic(
              Topic.DIGITS_PREDICTIONS,
              "and the HTTP-scored ones, whose predictions carry their pixels.",
              READ),
          Acl.group("trainer-service", "The command consumers' group.", READ),
          Acl.groupsStartingWith(
              "trainer-history-",
              "Each trainer reads the run history in a group of its own.",
              READ))),
  INFERENCE(
      "inference",
      "inference-service",
      service(
          Acl.topic(
              Topic.MNIST_MANIFESTS,
              "The gate scores candidates on the dev split (inference.gate.split).",
              READ),
          Acl.topic(Topic.MNIST_DEV, "", READ),
          Acl.topic(
              Topic.MODEL_CHECKPOINTS,
              "Follows the checkpoints, never writes them: with ACLs its retention is off"
                  + " (inference.retention.keep-versions=0; retention writes tombstones there).",
              READ),
          Acl.topic(
              Topic.MODEL_CONTROL,
              "The fleet's decisions: promotions and rejections by the gate, pins, follows.",
              READ,
              WRITE),
          Acl.topic(Topic.DIGITS_IMAGES, "Scores the image events.", READ),
          Acl.topic(
              Topic.DIGITS_PREDICTIONS,
              "One prediction or one dead letter per event, in the batch's transaction; the"
                  + " outcomes join reads the predictions.",
              READ,
              WRITE),
          Acl.topic(Topic.DIGITS_IMAGES_DLQ, "", WRITE),
          Acl.topic(
              Topic.DIGITS_LABELS,
              "The labels users send (POST /api/feedback); the outcomes join reads them.",
              READ,
              WRITE),
          Acl.topic(
              Topic.DIGITS_OUTCOMES,
              "The outcomes join writes each labelled prediction; every replica counts them.",
              READ,
              WRITE),
          Acl.topic(
              Topic.MODEL_ACCURACY,
              "The outcomes join keeps live accuracy per version there; every replica reads it.",
              READ,
              WRITE),
          Acl.topicsStartingWith(
              "inference-outcomes-",
              "The outcomes join's own topics (Kafka Streams: its window stores' changelogs).",
              CREATE,
              DESCRIBE,
              READ,
              WRITE),
          Acl.group(
              "inference-outcomes",
              "The outcomes join (Kafka Streams application inference-outcomes).",
              READ),
          Acl.group(
              "inference-service",
              "The scoring group (inference.kafka.group-id): offsets commit in the transaction.",
              READ),
          Acl.transactionalIdsStartingWith(
              "inference-",
              "Each scoring worker's transactional producer: <prefix>-w<n>, the prefix"
                  + " (inference.kafka.transactional-id-prefix) inference-<host>-<port> by default.",
              DESCRIBE,
              WRITE))),
  /**
   * Tools, tests and kcat on the secured local broker: the pipeline's inputs and outputs as a user
   * of it sees them. Deployed clients bring a KafkaUser of their own.
   */
  CLIENT(
      "client",
      null,
      List.of(
          Acl.topic(Topic.DIGITS_IMAGES, "Image events to score.", WRITE),
          Acl.topic(Topic.TRAINING_COMMANDS, "Starts and cancels training runs.", WRITE),
          Acl.topic(Topic.DIGITS_LABELS, "The true digits of scored images.", WRITE),
          Acl.topic(Topic.DIGITS_OUTCOMES, "Labelled predictions", READ),
          Acl.topic(Topic.MODEL_ACCURACY, "and live accuracy per model version.", READ),
          Acl.topic(Topic.DIGITS_PREDICTIONS, "What comes out: predictions,", READ),
          Acl.topic(Topic.DIGITS_IMAGES_DLQ, "dead letters,", READ),
          Acl.topic(Topic.TRAINING_EVENTS, "and the runs' progress.", READ))),
  /** KEDA scales inference on its consumer lag ({@code deploy/overlays/keda}). */
  KEDA(
      null,
      "keda",
      List.of(
          Acl.group("inference-service", "The scoring group's committed offsets,", DESCRIBE),
          Acl.topic(Topic.DIGITS_IMAGES, "and the image topic's end offsets: the lag.", DESCRIBE)));

  private final String localName;
  private final String deployedName;
  private final List<Acl> acls;

  KafkaUser(String localName, String deployedName, List<Acl> acls) {
    this.localName = localName;
    this.deployedName = deployedName;
    this.acls = List.copyOf(acls);
  }

  /** The user's name on the secured local broker; empty where it has none there. */
  public Optional<String> localName() {
    return Optional.ofNullable(localName);
  }

  /** The user's name on the deployed cluster (its Strimzi KafkaUser); empty where none. */
  public Optional<String> deployedName() {
    return Optional.ofNullable(deployedName);
  }

  public List<Acl> acls() {
    return acls;
  }

  /**
   * Whether this user may do {@code operation} on the resource {@code name} of {@code type}, as
   * Kafka decides it: an ACL for the operation, or one that implies it (Read, Write and the others
   * imply Describe; AlterConfigs implies DescribeConfigs).
   */
  public boolean may(AclOperation operation, ResourceType type, String name) {
    return acls.stream()
        .filter(a -> a.covers(type, name))
        .flatMap(a -> a.operations().stream())
        .anyMatch(granted -> granted == operation || implies(granted, operation));
  }

  private static boolean implies(AclOperation granted, AclOperation wanted) {
    return switch (wanted) {
      case DESCRIBE ->
          Set.of(
                  AclOperation.READ,
                  AclOperation.WRITE,
                  AclOperation.DELETE,
                  AclOperation.ALTER,
                  AclOperation.ALL)
              .contains(granted);
      case DESCRIBE_CONFIGS -> granted == AclOperation.ALTER_CONFIGS || granted == AclOperation.ALL;
      default -> granted == AclOperation.ALL;
    };
  }

  /**
   * A service's ACLs: {@code own}, after what every service needs at start ({@link
   * Topics#ensureAll}: it sizes topics by the brokers' {@code default.replication.factor} and
   * checks that every pipeline topic exists).
   */
  private static List<Acl> service(Acl... own) {
    List<Acl> all = new ArrayList<>();
    all.add(
        Acl.cluster(
            "At start (Topics.ensureAll): the brokers' default.replication.factor.",
            DESCRIBE_CONFIGS));
    Set<String> prefixes = new LinkedHashSet<>();
    for (Topic t : Topic.values()) {
      prefixes.add(t.defaultName().substring(0, t.defaultName().indexOf('.') + 1));
    }
    String why = "At start (Topics.ensureAll): every pipeline topic exists.";
    for (String prefix : prefixes) {
      all.add(Acl.topicsStartingWith(prefix, why, DESCRIBE));
      why = "";
    }
    all.addAll(Arrays.asList(own));
    return all;
  }
}
