package lenet.service.security;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Who may change state over HTTP. The endpoints that change what the pipeline does (pin or follow a
 * model, start or cancel a run, ingest) need {@code Authorization: Bearer <token>} with one of the
 * configured tokens, accept JSON only and refuse requests from another site's page. Reads and
 * predictions stay open unless {@code api.read-policy=authenticated} (see this jar's {@code
 * META-INF/microprofile-config.properties}: every {@code /api} and {@code /v2} request then needs
 * the token too; health probes and the pages stay open, and the pages' live streams, which cannot
 * send a header, stop updating).
 */
@ApplicationScoped
public class ApiSecurityConfig {

  private final List<String> tokens;
  private final List<String> allowedOrigins;

  /**
   * @param token {@code api.token} ({@code API_TOKEN}): the bearer tokens accepted on mutating
   *     endpoints, comma-separated: several at once during a rotation (add the new one, move the
   *     callers, drop the old one). None: every mutating request is refused with 401 and the
   *     service says so at start. {@code ./pipeline up} generates one at first start and keeps it
   *     in {@code run/api-token}.
   * @param allowedOrigins {@code api.allowed-origins}: page origins ({@code scheme://host:port})
   *     besides the service's own that may call mutating endpoints from a browser (a front end
   *     served elsewhere). None: only the service's own pages.
   */
  ApiSecurityConfig(
      @ConfigProperty(name = "api.token") Optional<List<String>> token,
      @ConfigProperty(name = "api.allowed-origins") Optional<List<String>> allowedOrigins) {
    this.tokens =
        token.orElse(List.of()).stream().map(String::trim).filter(t -> !t.isEmpty()).toList();
    this.allowedOrigins = allowedOrigins.orElse(List.of());
  }

  /** The accepted tokens, blanks dropped. */
  public List<String> tokens() {
    return tokens;
  }

  /** Origins besides the service's own whose pages may change state. */
  public List<String> allowedOrigins() {
    return allowedOrigins;
  }
}
