package lenet.service.security;

import io.quarkus.runtime.Startup;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Checks a bearer token against the configured ones ({@link ApiSecurityConfig#token()}), in time
 * that does not depend on where a wrong token differs (digests compared with {@link
 * MessageDigest#isEqual}). A match is the operator.
 */
@ApplicationScoped
@Startup
public class ApiTokenIdentityProvider implements IdentityProvider<TokenAuthenticationRequest> {

  private static final Logger LOG = Logger.getLogger(ApiTokenIdentityProvider.class);

  /** Shorter tokens are refused at start: a guessable token protects nothing. */
  static final int MIN_TOKEN_LENGTH = 16;

  private final List<byte[]> accepted;

  ApiTokenIdentityProvider(ApiSecurityConfig config) {
    List<String> tokens = config.tokens();
    for (String t : tokens) {
      if (t.length() < MIN_TOKEN_LENGTH) {
        throw new IllegalArgumentException(
            "api.token: a token must have at least "
                + MIN_TOKEN_LENGTH
                + " characters (e.g. openssl rand -hex 24)");
      }
    }
    this.accepted = tokens.stream().map(ApiTokenIdentityProvider::digest).toList();
  }

  @PostConstruct
  void report() {
    if (accepted.isEmpty()) {
      LOG.warn(
          "No API token configured (api.token / API_TOKEN): every endpoint that changes state refuses"
              + " all callers with 401");
    } else {
      LOG.infof("Endpoints that change state need one of %d API token(s)", accepted.size());
    }
  }

  /** Whether any token is configured. */
  public boolean configured() {
    return !accepted.isEmpty();
  }

  @Override
  public Class<TokenAuthenticationRequest> getRequestType() {
    return TokenAuthenticationRequest.class;
  }

  @Override
  public Uni<SecurityIdentity> authenticate(
      TokenAuthenticationRequest request, AuthenticationRequestContext context) {
    byte[] given = digest(request.getToken().getToken());
    boolean match = false;
    for (byte[] a : accepted) {
      match |= MessageDigest.isEqual(a, given);
    }
    if (!match) {
      return Uni.createFrom()
          .failure(
              new AuthenticationFailedException(
                  configured()
                      ? "the bearer token is not one this service accepts"
                      : "this service has no API token configured (api.token / API_TOKEN), so"
                          + " nothing may change state over HTTP"));
    }
    return Uni.createFrom()
        .item(
            QuarkusSecurityIdentity.builder()
                .setPrincipal(new QuarkusPrincipal(Roles.OPERATOR))
                .addRole(Roles.OPERATOR)
                .addCredential(request.getToken())
                .build());
  }

  private static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
