package lenet.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalKafkaBrokerTest {

  @Test
  void keepsItsRecordsAcrossARestartAndRefusesATakenPort(@TempDir Path dir) throws Exception {
    int port = KafkaNodes.onFreePorts(1).port(1);
    try (LocalKafkaBroker broker =
        LocalKafkaBroker.persistent(port, dir).start(Duration.ofSeconds(60))) {
      assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic("kept", 1, (short) 1))).all().get();
      }
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", broker.bootstrapServers()),
              new StringSerializer(),
              new StringSerializer())) {
        producer.send(new ProducerRecord<>("kept", "k", "before restart")).get();
      }
      assertThatThrownBy(
              () ->
                  LocalKafkaBroker.persistent(port, dir.resolve("other"))
                      .start(Duration.ofSeconds(5)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("127.0.0.1:" + port + " is taken");
    }
    try (LocalKafkaBroker again =
        LocalKafkaBroker.persistent(port, dir).start(Duration.ofSeconds(60))) {
      assertThat(readAll(again.bootstrapServers(), "kept")).containsExactly("before restart");
    }
  }

  private static List<String> readAll(String bootstrap, String topic) {
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(
            Map.of("bootstrap.servers", bootstrap),
            new StringDeserializer(),
            new StringDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      List<String> out = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 20_000;
      while (out.isEmpty() && System.currentTimeMillis() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.value()));
      }
      return out;
    }
  }
}
