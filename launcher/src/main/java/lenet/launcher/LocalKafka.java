package lenet.launcher;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The local Kafka to start: {@code brokers} nodes (one, or a KRaft cluster whose node {@code i}
 * listens on {@code port + 2(i-1)}, its controller one above, as local-kafka's {@code KafkaNodes}
 * lays them out), their data under {@code dataDir}, and {@code security} ({@code plaintext}, or
 * {@code sasl_ssl} for one broker).
 */
public record LocalKafka(int brokers, int port, Path dataDir, String security) {

  public LocalKafka {
    if (brokers < 1 || brokers > 9) {
      throw new IllegalArgumentException("KAFKA_BROKERS must be 1..9, not " + brokers);
    }
    if (!security.equals("plaintext") && !security.equals("sasl_ssl")) {
      throw new IllegalArgumentException(
          "KAFKA_SECURITY must be plaintext or sasl_ssl, not " + security);
    }
    if (security.equals("sasl_ssl") && brokers != 1) {
      throw new IllegalArgumentException(
          "KAFKA_SECURITY=sasl_ssl runs one broker (KAFKA_BROKERS=1)");
    }
  }

  public int port(int node) {
    return port + 2 * (node - 1);
  }

  /** {@code kafka} alone, else {@code kafka-1..kafka-N}. */
  public List<String> nodeNames() {
    return brokers == 1
        ? List.of("kafka")
        : IntStream.rangeClosed(1, brokers).mapToObj(i -> "kafka-" + i).toList();
  }

  public String bootstrapServers() {
    return IntStream.rangeClosed(1, brokers)
        .mapToObj(i -> "127.0.0.1:" + port(i))
        .collect(Collectors.joining(","));
  }
}
