package lenet.kafka;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The local broker as its own process, for people: {@code java -jar
 * local-kafka/target/local-kafka.jar [--port 9092] [--controller-port 9093] [--data-dir
 * data/kafka]}. Data survives restarts; prints one READY line once clients can connect; stops
 * cleanly on SIGTERM or Ctrl-C.
 */
public final class LocalKafka {

  private LocalKafka() {}

  public static void main(String[] args) throws InterruptedException {
    int port = 9092;
    int controllerPort = -1;
    Path dataDir = Path.of("data", "kafka");
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(require(args[i], value));
        case "--controller-port" -> controllerPort = Integer.parseInt(require(args[i], value));
        case "--data-dir" -> dataDir = Path.of(require(args[i], value));
        case "--help", "-h" -> {
          System.out.println(
              "usage: local-kafka [--port 9092] [--controller-port PORT+1] [--data-dir data/kafka]");
          return;
        }
        default -> {
          System.err.println("Unknown option " + args[i] + "; try --help");
          System.exit(2);
        }
      }
      i++;
    }
    if (controllerPort < 0) {
      controllerPort = port + 1;
    }
    LocalKafkaBroker broker = LocalKafkaBroker.persistent(port, controllerPort, dataDir);
    try {
      broker.start(Duration.ofSeconds(60));
    } catch (IllegalStateException e) {
      System.err.println("ERROR: " + e.getMessage());
      System.exit(1);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("Stopping Kafka on " + broker.bootstrapServers());
                  broker.close();
                  stopped.countDown();
                },
                "local-kafka-shutdown"));
    System.out.println(
        "READY Kafka 4.1 (KRaft) on "
            + broker.bootstrapServers()
            + ", data in "
            + broker.dataDir());
    stopped.await();
  }

  private static String require(String option, String value) {
    if (value == null) {
      System.err.println(option + " needs a value");
      System.exit(2);
    }
    return value;
  }
}
