package lenet.service.security;

import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.ext.Provider;
import java.net.URI;
import java.util.List;
import java.util.Set;

/**
 * What a browser could be tricked into sending, refused before an endpoint that changes state runs:
 * a request from another site's page ({@code Origin} not this service's own or one of {@code
 * api.allowed-origins}; {@code Sec-Fetch-Site: cross-site}) gets 403, a body that is not {@code
 * application/json} (every HTML form's encoding) gets 415. A cross-site page can send JSON only
 * after a CORS preflight, which these services never grant.
 */
@Provider
@Mutating
@Priority(Priorities.AUTHENTICATION - 10)
public class MutatingRequestFilter implements ContainerRequestFilter {

  private static final Set<String> WITH_BODY = Set.of("POST", "PUT", "PATCH");

  private final Refusal refusal;
  private final List<String> allowedOrigins;

  MutatingRequestFilter(Refusal refusal, ApiSecurityConfig config) {
    this.refusal = refusal;
    this.allowedOrigins = config.allowedOrigins();
  }

  @Override
  public void filter(ContainerRequestContext request) {
    String method = request.getMethod();
    String path = request.getUriInfo().getPath();
    String origin = request.getHeaderString("Origin");
    boolean crossSite = "cross-site".equalsIgnoreCase(request.getHeaderString("Sec-Fetch-Site"));
    if ((origin != null || crossSite) && !allowed(origin, request.getUriInfo().getBaseUri())) {
      request.abortWith(
          refusal.answer(
              Refusal.Reason.FOREIGN_ORIGIN,
              "a page of "
                  + (origin == null ? "another site" : origin)
                  + " may not change state here (api.allowed-origins lists the pages that may)",
              method,
              path));
      return;
    }
    MediaType type = request.getMediaType();
    if (WITH_BODY.contains(method)
        && (type == null || !MediaType.APPLICATION_JSON_TYPE.isCompatible(type))) {
      request.abortWith(
          refusal.answer(
              Refusal.Reason.NOT_JSON,
              "this endpoint changes state and accepts only Content-Type: application/json (was "
                  + (type == null ? "none" : type.toString())
                  + ")",
              method,
              path));
    }
  }

  private boolean allowed(String origin, URI base) {
    if (origin == null) {
      return false; // cross-site without an Origin: nothing to vouch for it
    }
    String own = base.getScheme() + "://" + base.getRawAuthority();
    return origin.equalsIgnoreCase(own) || allowedOrigins.contains(origin);
  }
}
