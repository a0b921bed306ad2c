package lenet.service.security;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Quarkus Security's refusals as the services' JSON errors, each with the reason a page can show:
 * no token, a wrong token, or an identity without the operator role.
 */
public class SecurityErrors {

  private final Refusal refusal;
  private final ApiTokenIdentityProvider tokens;

  SecurityErrors(Refusal refusal, ApiTokenIdentityProvider tokens) {
    this.refusal = refusal;
    this.tokens = tokens;
  }

  @ServerExceptionMapper
  public Response noToken(UnauthorizedException e, UriInfo uri, jakarta.ws.rs.core.Request req) {
    return refusal.answer(
        Refusal.Reason.NO_TOKEN,
        tokens.configured()
            ? "this needs 'Authorization: Bearer <token>' with the service's API token (api.token;"
                + " ./pipeline up keeps it in run/api-token)"
            : "this service has no API token configured (api.token / API_TOKEN), so nothing may"
                + " change state over HTTP",
        req.getMethod(),
        uri.getPath());
  }

  @ServerExceptionMapper
  public Response badToken(
      AuthenticationFailedException e, UriInfo uri, jakarta.ws.rs.core.Request req) {
    return refusal.answer(
        Refusal.Reason.BAD_TOKEN,
        e.getMessage() == null ? "the bearer token was not accepted" : e.getMessage(),
        req.getMethod(),
        uri.getPath());
  }

  @ServerExceptionMapper
  public Response notAllowed(ForbiddenException e, UriInfo uri, jakarta.ws.rs.core.Request req) {
    return refusal.answer(
        Refusal.Reason.NOT_ALLOWED,
        "this identity may not change state here (it lacks the role '" + Roles.OPERATOR + "')",
        req.getMethod(),
        uri.getPath());
  }
}
