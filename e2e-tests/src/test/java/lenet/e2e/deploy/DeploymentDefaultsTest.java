package lenet.e2e.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import lenet.e2e.deploy.DeploymentEnv.Entry;
import lenet.e2e.deploy.DeploymentEnv.Source;
import lenet.e2e.deploy.ServiceSettings.Setting;
import org.junit.jupiter.api.Test;

/**
 * The deployments run the system the tests prove: every variable that {@code docker-compose.yml},
 * {@code docker-compose.gpu.yml} or a file under {@code deploy/} gives a service is a setting that
 * service reads, with a value it accepts (an enum's constants come from the code, e.g. {@code
 * InferenceConfig.Policy}), equal to the code's default unless a {@code # differs: <why>} comment
 * on its line or right above it says why (see {@link DeploymentEnv}). A value the file does not
 * show (a Secret) needs the comment too. Variables that are no service setting at all are allowed
 * only from {@link #NOT_SERVICE_SETTINGS}, each with its reason.
 */
class DeploymentDefaultsTest {

  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  /** Variables no service maps, and why a deployment may still set them. */
  static final Map<String, String> NOT_SERVICE_SETTINGS =
      Map.of(
          "DJL_CACHE_DIR",
          "read by DJL itself from the environment: where libtorch is unpacked, a mounted volume",
          "JAVA_OPTS_APPEND",
          "read by the image's entrypoint: extra JVM options",
          "NVIDIA_VISIBLE_DEVICES",
          "read by the NVIDIA container runtime: which GPUs the container sees",
          "NVIDIA_DRIVER_CAPABILITIES",
          "read by the NVIDIA container runtime: which driver libraries it mounts");

  private static final Map<String, ServiceSettings> SERVICES = ServiceSettings.onClassPath();

  @Test
  void theServicesAreOnTheClassPath() {
    assertThat(SERVICES).containsOnlyKeys("ingest-service", "trainer-service", "inference-service");
  }

  @Test
  void composeGivesEachServiceItsDefaultsOrSaysWhy() {
    List<Entry> entries = new ArrayList<>();
    for (String file : List.of("docker-compose.yml", "docker-compose.gpu.yml")) {
      entries.addAll(DeploymentEnv.compose(REPO, REPO.resolve(file)));
    }
    assertThat(entries)
        .extracting(Entry::service)
        .contains(SERVICES.keySet().toArray(String[]::new));
    assertThat(findings(entries)).isEmpty();
  }

  @Test
  void kubernetesGivesEachServiceItsDefaultsOrSaysWhy() {
    List<Entry> entries = DeploymentEnv.kustomize(REPO, REPO.resolve("deploy"));
    assertThat(entries)
        .extracting(Entry::service)
        .contains(SERVICES.keySet().toArray(String[]::new));
    assertThat(findings(entries)).isEmpty();
  }

  @Test
  void bothServeWithTheGatedPolicy() {
    List<Entry> entries =
        new ArrayList<>(DeploymentEnv.compose(REPO, REPO.resolve("docker-compose.yml")));
    entries.addAll(DeploymentEnv.kustomize(REPO, REPO.resolve("deploy")));
    Setting policy = SERVICES.get("inference-service").byEnvName("INFERENCE_POLICY").orElseThrow();
    assertThat(policy.defaultValue()).isEqualTo("gated");
    assertThat(entries)
        .filteredOn(e -> e.name().equals("INFERENCE_POLICY") && e.source() == Source.FILE)
        .isNotEmpty()
        .allSatisfy(e -> assertThat(e.value()).as(e.where()).isEqualTo("gated"));
  }

  // --- the rules themselves, on small files ----------------------------------------------------

  @Test
  void aPolicyOtherThanTheDefaultFailsUnlessExplained() {
    assertThat(findings(compose("      INFERENCE_POLICY: ${INFERENCE_POLICY:-latest}")))
        .singleElement(STRING)
        .contains("INFERENCE_POLICY", "latest", "gated", "# differs:");
    assertThat(
            findings(
                compose(
                    "      # differs: a demo that serves every epoch\n"
                        + "      INFERENCE_POLICY: latest")))
        .isEmpty();
    assertThat(findings(compose("      INFERENCE_POLICY: latest # differs: a demo"))).isEmpty();
    assertThat(findings(compose("      INFERENCE_POLICY: latest # differs:")))
        .as("a marker without a reason explains nothing")
        .hasSize(1);
  }

  @Test
  void valuesTheCodeRefusesFailEvenWhenExplained() {
    assertThat(findings(compose("      INFERENCE_POLICY: newest # differs: typo")))
        .singleElement(STRING)
        .contains("not one of gated, latest, best");
    assertThat(findings(compose("      INFERENCE_GATE_MAX_IMAGES: many # differs: typo")))
        .singleElement(STRING)
        .contains("not a valid Integer");
  }

  @Test
  void unknownVariablesFail() {
    assertThat(findings(compose("      INFERENCE_POLICIES: gated # differs: no such key")))
        .singleElement(STRING)
        .contains("INFERENCE_POLICIES", "no setting of inference-service");
  }

  @Test
  void defaultsNeedNoComment() {
    assertThat(
            findings(
                compose(
                    "      INFERENCE_POLICY: GATED\n"
                        + "      INFERENCE_KAFKA_DELIVERY: exactly-once\n"
                        + "      INFERENCE_GATE_TOLERANCE: \"0.0010\"\n"
                        + "      INFERENCE_REPLICA_ID:\n"
                        + "      INFERENCE_POLICY_UNSET: ${INFERENCE_POLICY_UNSET}")))
        .containsExactly(
            "docker-compose.yml:10 inference-service INFERENCE_POLICY_UNSET: no setting of"
                + " inference-service reads it");
  }

  @Test
  void kubernetesConfigMapsReachTheServicesThatTakeThem() {
    String deployment =
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: inference-service}
        spec:
          template:
            spec:
              containers:
                - name: inference-service
                  envFrom:
                    - configMapRef: {name: inference-config}
                  env:
                    - name: API_TOKEN
                      valueFrom: {secretKeyRef: {name: lenet-api-token, key: token}}
        """;
    String config =
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: inference-config}
        data:
          INFERENCE_RETENTION_KEEP_VERSIONS: "0"
        """;
    assertThat(findings(DeploymentEnv.kustomize(Map.of("a.yaml", deployment, "b.yaml", config))))
        .containsExactlyInAnyOrder(
            "a.yaml:12 inference-service API_TOKEN: from a Secret or another object; say why with"
                + " # differs:",
            "b.yaml:5 inference-service INFERENCE_RETENTION_KEEP_VERSIONS=0 but the code's default"
                + " is 50; say why with # differs:");
  }

  private static List<Entry> compose(String environment) {
    return DeploymentEnv.compose(
        "docker-compose.yml",
        "services:\n"
            + "  inference:\n"
            + "    image: lenet/inference-service:latest\n"
            + "    # a comment that is not the marker\n"
            + "    environment:\n"
            + environment
            + "\n");
  }

  /** What is wrong with each entry, one line each, naming its file and line. */
  static List<String> findings(List<Entry> entries) {
    List<String> out = new ArrayList<>();
    for (Entry e : entries) {
      String at = e.where() + " " + e.service() + " " + e.name();
      if (NOT_SERVICE_SETTINGS.containsKey(e.name())) {
        continue;
      }
      ServiceSettings service = SERVICES.get(e.service());
      if (service == null) {
        out.add(at + ": " + e.service() + " is not a service on the test class path");
        continue;
      }
      Optional<Setting> setting = service.byEnvName(e.name());
      if (setting.isEmpty()) {
        out.add(at + ": no setting of " + e.service() + " reads it");
        continue;
      }
      Setting s = setting.get();
      switch (e.source()) {
        case SHELL -> {} // unset unless the operator sets it: the default applies
        case REFERENCE -> {
          if (!e.explained()) {
            out.add(at + ": from a Secret or another object; say why with " + DeploymentEnv.MARKER);
          }
        }
        case FILE -> {
          Optional<String> invalid = ServiceSettings.invalid(s, e.value());
          if (invalid.isPresent()) {
            out.add(at + "=" + e.value() + ": " + invalid.get());
          } else if (!ServiceSettings.isDefault(s, e.value()) && !e.explained()) {
            out.add(
                at
                    + "="
                    + e.value()
                    + " but the code's default is "
                    + (s.defaultValue() == null ? "none" : s.defaultValue())
                    + "; say why with "
                    + DeploymentEnv.MARKER);
          }
        }
      }
    }
    return out;
  }
}
