package lenet.service.security;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Refused requests to endpoints that change state: one JSON shape ({@code {"error", "reason"}}, as
 * every other error of the services), a count per reason ({@code api_refused_requests_total}) and a
 * debug line.
 */
@ApplicationScoped
public class Refusal {

  private static final Logger LOG = Logger.getLogger(Refusal.class);

  /** Why a request was refused. */
  public enum Reason {
    /** No bearer token on an endpoint that needs one: 401. */
    NO_TOKEN(401),
    /** A bearer token that is not configured here: 401. */
    BAD_TOKEN(401),
    /** Authenticated, but without the operator role (another identity source): 403. */
    NOT_ALLOWED(403),
    /** A page of another site ({@code Origin}, {@code Sec-Fetch-Site}): 403. */
    FOREIGN_ORIGIN(403),
    /** A body that is not JSON (a form post): 415. */
    NOT_JSON(415);

    final int status;

    Reason(int status) {
      this.status = status;
    }
  }

  private final MeterRegistry registry;

  Refusal(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Counts the refusal and builds its answer. */
  public Response answer(Reason reason, String message, String method, String path) {
    registry.counter("api.refused.requests", "reason", reason.name()).increment();
    LOG.debugf("refused %s %s: %s (%s)", method, path, reason, message);
    Response.ResponseBuilder out =
        Response.status(reason.status)
            .type(MediaType.APPLICATION_JSON_TYPE)
            .entity(Map.of("error", message, "reason", reason.name()));
    if (reason.status == 401) {
      out.header(
          HttpHeaders.WWW_AUTHENTICATE,
          ApiTokenMechanism.SCHEME
              + " realm=\"lenet\""
              + (reason == Reason.BAD_TOKEN ? ", error=\"invalid_token\"" : ""));
    }
    return out.build();
  }
}
