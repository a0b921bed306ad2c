package lenet.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Broker settings from a deployment's files may not move where or how a local node listens. */
class NodeSetupTest {

  @Test
  void placementAndSecuritySettingsStayTheNodes() {
    for (String key :
        new String[] {"listeners", "node.id", "log.dirs", "ssl.keystore.location", "super.users"}) {
      assertThatThrownBy(() -> new NodeSetup(true, false, Map.of(key, "x")))
          .as(key)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(key);
    }
  }

  @Test
  void otherBrokerSettingsAreTaken() {
    NodeSetup s = new NodeSetup(false, false, Map.of("min.insync.replicas", "2"));
    assertThat(s.brokerConfig()).containsEntry("min.insync.replicas", "2");
  }

  @Test
  void aclsNeedASecuredNode() {
    assertThatThrownBy(() -> new NodeSetup(false, true, Map.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
