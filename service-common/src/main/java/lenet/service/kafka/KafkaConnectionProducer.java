package lenet.service.kafka;

import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.Map;
import lenet.support.kafka.KafkaConnection;
import org.jboss.logging.Logger;

/**
 * The service's one Kafka connection: every {@code kafka.*} setting (environment {@code KAFKA_*}),
 * exactly as Quarkus hands them to the messaging channels ({@code default-kafka-broker}), so the
 * plain producers, consumers and admin clients connect as the channels do: bootstrap servers,
 * {@code security.protocol}, {@code sasl.mechanism}, {@code sasl.jaas.config}, {@code
 * ssl.truststore.*}, {@code ssl.keystore.*}.
 */
@ApplicationScoped
public class KafkaConnectionProducer {

  private static final Logger LOG = Logger.getLogger(KafkaConnectionProducer.class);

  @Produces
  @Singleton
  KafkaConnection connection(@Identifier("default-kafka-broker") Map<String, Object> config) {
    KafkaConnection kafka = KafkaConnection.of(config);
    LOG.infof("Kafka: %s", kafka);
    return kafka;
  }
}
