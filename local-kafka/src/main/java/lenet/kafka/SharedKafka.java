package lenet.kafka;

import java.time.Duration;

/**
 * One in-process broker per JVM, shared by every test class: starting a broker costs seconds,
 * reusing it nothing. It starts on first use and stops when the JVM exits.
 */
public final class SharedKafka {

  private static LocalKafkaBroker broker;

  private SharedKafka() {}

  public static synchronized String bootstrapServers() {
    if (broker == null) {
      LocalKafkaBroker started = LocalKafkaBroker.ephemeral().start(Duration.ofSeconds(60));
      Runtime.getRuntime().addShutdownHook(new Thread(started::close, "shared-kafka-shutdown"));
      broker = started;
    }
    return broker.bootstrapServers();
  }
}
