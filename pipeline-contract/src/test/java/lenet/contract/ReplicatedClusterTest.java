package lenet.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.kafka.LocalKafkaCluster;
import lenet.support.kafka.KafkaClients;
import lenet.support.kafka.KafkaConnection;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pipeline's topics on a real three-node KRaft cluster (three processes): sized for it, and an
 * acknowledged write survives {@code kill -9} of the broker that led its partition, while writing
 * goes on through the loss.
 */
class ReplicatedClusterTest {

  private static LocalKafkaCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = LocalKafkaCluster.ephemeral(3).start(Duration.ofMinutes(2));
    Topics.defaults().ensureAll(KafkaConnection.to(cluster.bootstrapServers()));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void everyTopicKeepsThreeCopiesAndNeedsTwoForAWrite() throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
      List<String> names = new ArrayList<>();
      for (Topic t : Topic.values()) {
        names.add(t.defaultName());
      }
      Map<String, TopicDescription> described =
          admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
      for (Topic t : Topic.values()) {
        TopicDescription d = described.get(t.defaultName());
        assertThat(d.partitions()).as(t.defaultName()).hasSize(t.partitions());
        assertThat(d.partitions())
            .allSatisfy(p -> assertThat(p.replicas()).as(t.defaultName()).hasSize(3));
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, t.defaultName());
        var config = admin.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS).get(r);
        for (var e : t.configs(3).entrySet()) {
          assertThat(config.get(e.getKey()).value())
              .as(t + " " + e.getKey())
              .isEqualTo(e.getValue());
        }
      }
    }
    assertThat(cluster.nodes().replicationSettings())
        .as("the broker's internal topics follow the same rule as the pipeline's")
        .containsEntry(
            "offsets.topic.replication.factor", String.valueOf(Topic.replicationFactor(3)))
        .containsEntry("min.insync.replicas", String.valueOf(Topic.minInsyncReplicas(3)))
        .containsEntry("transaction.state.log.min.isr", String.valueOf(Topic.minInsyncReplicas(3)));
  }

  @Test
  void noAcknowledgedWriteIsLostWhenTheLeaderIsKilled() throws Exception {
    String topic = Topic.DIGITS_PREDICTIONS.defaultName();
    int total = 3_000;
    int victim = cluster.leaderOf(topic, 0);
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicInteger failed = new AtomicInteger();
    AtomicInteger acknowledgedAfterKill = new AtomicInteger();
    long[] lastAck = {System.nanoTime()};
    long[] longestGap = {0};
    boolean[] killed = {false};
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.durableWriter(
            KafkaConnection.to(cluster.bootstrapServers()),
            "cluster-test",
            Map.of(ProducerConfig.LINGER_MS_CONFIG, 5))) {
      for (int i = 0; i < total; i++) {
        if (i == total / 3) {
          producer.flush();
          cluster.kill(victim);
          killed[0] = true;
        }
        String key = "event-" + i;
        boolean afterKill = killed[0];
        producer.send(
            new ProducerRecord<>(topic, key, ("prediction " + i).getBytes()),
            (meta, error) -> {
              if (error == null) {
                acknowledged.add(key);
                long now = System.nanoTime();
                longestGap[0] = Math.max(longestGap[0], now - lastAck[0]);
                lastAck[0] = now;
                if (afterKill) {
                  acknowledgedAfterKill.incrementAndGet();
                }
              } else {
                failed.incrementAndGet();
              }
            });
        if (i % 100 == 0) {
          Thread.sleep(20);
        }
      }
      producer.flush();
    }
    System.out.printf(
        "killed node %d (leader of %s-0); longest pause between acknowledgements %d ms%n",
        victim, topic, TimeUnit.NANOSECONDS.toMillis(longestGap[0]));
    assertThat(failed.get()).as("writes refused").isZero();
    assertThat(acknowledgedAfterKill.get())
        .as("writes go on with two of three brokers")
        .isEqualTo(total - total / 3);

    Map<String, Integer> seen = new HashMap<>();
    KafkaClients.readToEnd(
        KafkaConnection.to(cluster.bootstrapServers()),
        topic,
        r -> seen.merge(r.key(), 1, Integer::sum));
    assertThat(seen.keySet()).as("every acknowledged write is there").containsAll(acknowledged);
    assertThat(seen.values()).as("and once (idempotent producer)").allMatch(n -> n == 1);
    assertThat(cluster.leaderOf(topic, 0)).as("a new leader").isNotIn(victim, -1);

    cluster.startNode(victim, Duration.ofMinutes(2));
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
      Awaitility.await("node " + victim + " back in sync")
          .atMost(Duration.ofMinutes(1))
          .until(
              () ->
                  admin
                      .describeTopics(List.of(topic))
                      .allTopicNames()
                      .get(30, TimeUnit.SECONDS)
                      .get(topic)
                      .partitions()
                      .stream()
                      .allMatch(p -> p.isr().size() == 3));
    }
  }
}
