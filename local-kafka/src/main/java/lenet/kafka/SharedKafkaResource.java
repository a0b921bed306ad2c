package lenet.kafka;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Points a {@code @QuarkusTest} at the JVM's shared broker:
 * {@code @QuarkusTestResource(SharedKafkaResource.class)}. Stopping a test resource leaves the
 * broker up for the next test class.
 */
public class SharedKafkaResource implements QuarkusTestResourceLifecycleManager {

  @Override
  public Map<String, String> start() {
    return Map.of("kafka.bootstrap.servers", SharedKafka.bootstrapServers());
  }

  @Override
  public void stop() {
    // The broker outlives each test class; a JVM shutdown hook stops it.
  }
}
