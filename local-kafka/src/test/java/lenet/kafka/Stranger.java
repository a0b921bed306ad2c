package lenet.kafka;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.EndpointType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.AlterUserScramCredentialsRequest;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.DescribeClusterRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

/**
 * A client with no credentials that speaks Kafka's wire protocol itself: one request per
 * connection, in plain TCP or in TLS (trusting the broker's CA, but never authenticating), to any
 * port. Kafka's own admin client declines some requests on some listeners
 * (AlterUserScramCredentials through {@code bootstrap.controllers}); an attacker's client need not,
 * so the tests send the bytes themselves.
 */
final class Stranger {

  /** How the stranger connects. */
  enum Transport {
    PLAIN,
    TLS_WITHOUT_SASL
  }

  private final Path caCertificate;

  Stranger(Path caCertificate) {
    this.caCertificate = caCertificate;
  }

  /**
   * The four requests a stranger must never get answered, by name; DescribeCluster asks for the
   * controllers' view when {@code toController}.
   */
  static Map<String, AbstractRequest> harmfulRequests(
      String topic, String newUser, boolean toController) {
    return Map.of(
        "DescribeCluster",
        new DescribeClusterRequest.Builder(
                new DescribeClusterRequestData()
                    .setEndpointType(
                        toController ? EndpointType.CONTROLLER.id() : EndpointType.BROKER.id()))
            .build(ApiKeys.DESCRIBE_CLUSTER.latestVersion()),
        "IncrementalAlterConfigs retention.ms=1 of " + topic,
        new IncrementalAlterConfigsRequest.Builder(
                Map.of(
                    new ConfigResource(ConfigResource.Type.TOPIC, topic),
                    List.of(
                        new AlterConfigOp(
                            new ConfigEntry("retention.ms", "1"), AlterConfigOp.OpType.SET))),
                false)
            .build(ApiKeys.INCREMENTAL_ALTER_CONFIGS.latestVersion()),
        "AlterUserScramCredentials for " + newUser,
        new AlterUserScramCredentialsRequest.Builder(
                new AlterUserScramCredentialsRequestData()
                    .setUpsertions(List.of(scramUpsertion(newUser, newUser + "-password"))))
            .build(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS.latestVersion()),
        "DeleteTopics " + topic,
        new DeleteTopicsRequest.Builder(
                new DeleteTopicsRequestData()
                    .setTopics(
                        List.of(new DeleteTopicsRequestData.DeleteTopicState().setName(topic)))
                    .setTimeoutMs(5000))
            .build(ApiKeys.DELETE_TOPICS.latestVersion()));
  }

  /**
   * Sends {@code request} to 127.0.0.1:{@code port} over {@code transport}.
   *
   * @return the broker's answer, or empty when it closed the connection (or the TLS handshake
   *     failed) without one
   */
  Optional<AbstractResponse> send(int port, Transport transport, AbstractRequest request)
      throws Exception {
    RequestHeader header = new RequestHeader(request.apiKey(), request.version(), "stranger", 1);
    ByteBuffer body = request.serializeWithHeader(header);
    try (Socket socket = connect(port, transport)) {
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.writeInt(body.remaining());
      out.write(body.array(), body.arrayOffset() + body.position(), body.remaining());
      out.flush();
      InputStream raw = socket.getInputStream();
      DataInputStream in = new DataInputStream(raw);
      int size = in.readInt();
      byte[] response = new byte[size];
      in.readFully(response);
      return Optional.of(AbstractResponse.parseResponse(ByteBuffer.wrap(response), header));
    } catch (EOFException | SSLException | java.net.SocketException e) {
      return Optional.empty();
    }
  }

  private Socket connect(int port, Transport transport) throws Exception {
    Socket plain = new Socket();
    plain.connect(new InetSocketAddress(KafkaNodes.HOST, port), 5000);
    plain.setSoTimeout(10_000);
    if (transport == Transport.PLAIN) {
      return plain;
    }
    return tls().getSocketFactory().createSocket(plain, KafkaNodes.HOST, port, true);
  }

  private SSLContext tls() throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(caCertificate)) {
      trust.setCertificateEntry(
          "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }

  private static AlterUserScramCredentialsRequestData.ScramCredentialUpsertion scramUpsertion(
      String user, String password) {
    try {
      ScramFormatter formatter = new ScramFormatter(ScramMechanism.SCRAM_SHA_512);
      byte[] salt = formatter.secureRandomBytes();
      int iterations = 4096;
      return new AlterUserScramCredentialsRequestData.ScramCredentialUpsertion()
          .setName(user)
          .setMechanism(ScramMechanism.SCRAM_SHA_512.type())
          .setIterations(iterations)
          .setSalt(salt)
          .setSaltedPassword(formatter.saltedPassword(password, salt, iterations));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
