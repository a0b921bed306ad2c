package lenet.e2e;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import lenet.launcher.deploy.Deployment.LagScaler;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The consumer lag KEDA's Kafka scaler computes for a {@link LagScaler}, read from the cluster with
 * the scaler's own Kafka user: per partition of the topic, the newest offset minus the group's
 * committed one; a partition the group has not committed on counts its newest offset under {@code
 * offsetResetPolicy: earliest} and nothing under {@code latest} (KEDA's {@code kafka_scaler.go},
 * {@code getLagForPartition}). The replica count KEDA asks for is the total over {@code
 * lagThreshold}, rounded up, at most one per partition unless idle consumers are allowed.
 */
record KedaLag(long total, int partitions) {

  static KedaLag read(LagScaler scaler, Map<String, Object> settings) throws Exception {
    try (Admin admin = Admin.create(settings)) {
      var description =
          admin
              .describeTopics(List.of(scaler.topic()))
              .allTopicNames()
              .get(30, TimeUnit.SECONDS)
              .get(scaler.topic());
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      description
          .partitions()
          .forEach(
              p ->
                  latest.put(
                      new TopicPartition(scaler.topic(), p.partition()), OffsetSpec.latest()));
      Map<TopicPartition, ListOffsetsResultInfo> ends =
          admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin
              .listConsumerGroupOffsets(scaler.consumerGroup())
              .partitionsToOffsetAndMetadata()
              .get(30, TimeUnit.SECONDS);
      long total = 0;
      for (var e : ends.entrySet()) {
        long end = e.getValue().offset();
        OffsetAndMetadata c = committed.get(e.getKey());
        if (c == null) {
          total += scaler.offsetResetPolicy().equals("earliest") ? end : 0;
        } else {
          total += Math.max(0, end - c.offset());
        }
      }
      return new KedaLag(total, ends.size());
    }
  }

  /** The replicas KEDA would ask for, within the scaler's bounds. */
  int desiredReplicas(LagScaler scaler) {
    long wanted = (total + scaler.lagThreshold() - 1) / scaler.lagThreshold();
    if (!scaler.allowIdleConsumers()) {
      wanted = Math.min(wanted, partitions);
    }
    return (int) Math.max(scaler.minReplicas(), Math.min(scaler.maxReplicas(), wanted));
  }
}
