package lenet.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import lenet.contract.topics.Topic;
import lenet.contract.topics.Topics;
import lenet.contract.wire.ImageEvent;
import lenet.kafka.SharedKafka;
import lenet.support.kafka.KafkaConnection;
import lenet.support.kafka.TopicReader;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against a real in-process Kafka 4.1 broker. */
class KafkaRoundTripTest {

  private static String bootstrap;
  private static final Topics TOPICS = Topics.defaults();

  @BeforeAll
  static void createTopics() {
    bootstrap = SharedKafka.bootstrapServers();
    TOPICS.ensureAll(KafkaConnection.to(bootstrap));
    TOPICS.ensureAll(KafkaConnection.to(bootstrap)); // idempotent
  }

  @Test
  void everyTopicExistsWithItsSettings() throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      Set<String> names = admin.listTopics().names().get(10, TimeUnit.SECONDS);
      for (Topic t : Topic.values()) {
        assertThat(names).contains(t.defaultName());
      }
      ConfigResource checkpoints =
          new ConfigResource(ConfigResource.Type.TOPIC, Topic.MODEL_CHECKPOINTS.defaultName());
      Config config =
          admin
              .describeConfigs(List.of(checkpoints))
              .all()
              .get(10, TimeUnit.SECONDS)
              .get(checkpoints);
      assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
      assertThat(Integer.parseInt(config.get("max.message.bytes").value()))
          .isGreaterThanOrEqualTo(1 << 20);
      assertThat(partitionsOf(admin, Topic.DIGITS_IMAGES.defaultName())).hasSize(3);
    }
  }

  @Test
  void oneBrokerKeepsOneCopyAndTheImageTopicGrowsToItsSetting() throws Exception {
    Map<Topic, String> names = new java.util.EnumMap<>(Topic.class);
    for (Topic t : Topic.values()) {
      names.put(t, "grow-" + t.defaultName());
    }
    Topics topics = new Topics(names);
    topics.ensureAll(KafkaConnection.to(bootstrap));
    String images = topics.name(Topic.DIGITS_IMAGES);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      assertThat(partitionsOf(admin, images))
          .hasSize(3)
          .allSatisfy(p -> assertThat(p.replicas()).hasSize(1));
      ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, images);
      assertThat(
              admin
                  .describeConfigs(List.of(r))
                  .all()
                  .get(10, TimeUnit.SECONDS)
                  .get(r)
                  .get("min.insync.replicas")
                  .value())
          .isEqualTo("1");

      topics.withPartitions(Topic.DIGITS_IMAGES, 5).ensureAll(KafkaConnection.to(bootstrap));
      // The new partitions reach the broker's metadata a moment after the request returns.
      org.awaitility.Awaitility.await("five partitions")
          .atMost(java.time.Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(partitionsOf(admin, images)).hasSize(5));
    }
    assertThatThrownBy(() -> topics.withPartitions(Topic.MODEL_CHECKPOINTS, 2))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> topics.withPartitions(Topic.DIGITS_IMAGES, 0))
        .hasMessageContaining("topics.digits-images.partitions");
  }

  private static List<TopicPartitionInfo> partitionsOf(Admin admin, String topic) throws Exception {
    return admin
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get(10, TimeUnit.SECONDS)
        .get(topic)
        .partitions();
  }

  @Test
  void imageEventsAndAOneMegabyteCheckpointRoundTripThroughTheBroker() {
    int[] pixels = IntStream.range(0, 784).map(i -> (i * 7) % 256).toArray();
    ImageEvent event = ImageEvent.ofPixels("img-1", pixels);
    byte[] big = new byte[(1 << 20) + 1024];
    new Random(3).nextBytes(big);
    String images = TOPICS.name(Topic.DIGITS_IMAGES);
    String checkpoints = TOPICS.name(Topic.MODEL_CHECKPOINTS);
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                Topic.LARGE_RECORD),
            new StringSerializer(),
            new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(images, 0, "img-1", event.encode()));
      producer.send(new ProducerRecord<>(checkpoints, "lenet5", big));
      producer.flush();
    }
    assertThat(ImageEvent.decode(readOne(images, 0).value(), null)).isEqualTo(event);
    assertThat(readOne(checkpoints, 0).value()).isEqualTo(big);
  }

  private static ConsumerRecord<String, byte[]> readOne(String topic, int partition) {
    List<ConsumerRecord<String, byte[]>> got =
        TopicReader.of(KafkaConnection.to(bootstrap))
            .within(Duration.ofSeconds(20))
            .toEnd(topic)
            .stream()
            .filter(r -> r.partition() == partition)
            .toList();
    assertThat(got).isNotEmpty();
    return got.get(0);
  }
}
