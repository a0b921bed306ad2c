package lenet.support.kafka;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * How every Kafka client of a service reaches the cluster: the user's settings (bootstrap servers,
 * {@code security.protocol}, SASL mechanism and JAAS config, truststore and keystore, and any other
 * client setting), the same ones the service's messaging channels take from its {@code kafka.*}
 * configuration. Each client gets those a client of its kind knows, with its own tuned settings
 * layered on top ({@link #producer}, {@link #consumer}, {@link #admin}). What names one client
 * ({@code group.id}, {@code client.id}, {@code transactional.id}) is never taken from here: each
 * client sets its own.
 */
public final class KafkaConnection {

  private static final Set<String> PER_CLIENT =
      Set.of(
          CommonClientConfigs.GROUP_ID_CONFIG,
          CommonClientConfigs.GROUP_INSTANCE_ID_CONFIG,
          CommonClientConfigs.CLIENT_ID_CONFIG,
          ProducerConfig.TRANSACTIONAL_ID_CONFIG,
          ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
          ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
          ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
          ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG);

  private final Map<String, Object> settings;

  private KafkaConnection(Map<String, Object> settings) {
    Object bootstrap = settings.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    if (bootstrap == null || bootstrap.toString().isBlank()) {
      throw new IllegalArgumentException(
          "no Kafka to connect to: set kafka.bootstrap.servers (KAFKA_BOOTSTRAP_SERVERS)");
    }
    this.settings = Map.copyOf(settings);
  }

  /** A plaintext connection to {@code bootstrapServers} (tests, tools, a local broker). */
  public static KafkaConnection to(String bootstrapServers) {
    return new KafkaConnection(
        Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
  }

  /**
   * A connection with the user's client settings, keyed as Kafka names them ({@code
   * bootstrap.servers}, {@code security.protocol}, ...): a service's {@code kafka.*} configuration
   * without its prefix. Empty values are dropped (an unset environment variable).
   */
  public static KafkaConnection of(Map<String, ?> settings) {
    Map<String, Object> kept = new HashMap<>();
    settings.forEach(
        (k, v) -> {
          if (v != null && !v.toString().isEmpty() && !PER_CLIENT.contains(k)) {
            kept.put(k, v);
          }
        });
    return new KafkaConnection(kept);
  }

  public String bootstrapServers() {
    return settings.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG).toString();
  }

  /** {@code bootstrap servers (security protocol[, SASL mechanism])}, for logs; never a secret. */
  @Override
  public String toString() {
    Object protocol =
        settings.getOrDefault(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "PLAINTEXT");
    Object mechanism = settings.get("sasl.mechanism");
    return bootstrapServers()
        + " ("
        + protocol
        + (mechanism == null || !protocol.toString().startsWith("SASL") ? "" : ", " + mechanism)
        + ")";
  }

  /** A producer's configuration: the connection's producer settings, then {@code tuned}. */
  public Map<String, Object> producer(Map<String, ?> tuned) {
    return layered(ProducerConfig.configNames(), tuned);
  }

  /** A consumer's configuration: the connection's consumer settings, then {@code tuned}. */
  public Map<String, Object> consumer(Map<String, ?> tuned) {
    return layered(ConsumerConfig.configNames(), tuned);
  }

  /** An admin client's configuration: the connection's admin settings, then {@code tuned}. */
  public Map<String, Object> admin(Map<String, ?> tuned) {
    return layered(AdminClientConfig.configNames(), tuned);
  }

  private Map<String, Object> layered(Set<String> known, Map<String, ?> tuned) {
    Map<String, Object> out = new HashMap<>();
    settings.forEach(
        (k, v) -> {
          if (known.contains(k)) {
            out.put(k, v);
          }
        });
    out.putAll(tuned);
    return out;
  }
}
