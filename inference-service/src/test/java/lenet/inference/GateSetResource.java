package lenet.inference;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;
import lenet.kafka.SharedKafka;

/**
 * Points a {@code @QuarkusTest} at the JVM's shared broker and makes sure a small real MNIST copy
 * is on it before the service starts, so the promotion gate has its dev split to score candidates
 * on.
 */
public class GateSetResource implements QuarkusTestResourceLifecycleManager {

  @Override
  public Map<String, String> start() {
    TestModels.ensureGateSet();
    return Map.of("kafka.bootstrap.servers", SharedKafka.bootstrapServers());
  }

  @Override
  public void stop() {
    // The broker and the dataset outlive each test class.
  }
}
