package lenet.inference.rest;

import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import lenet.contract.wire.WireFormatException;
import lenet.inference.model.ActivationException;
import lenet.inference.model.NoModelException;
import lenet.inference.model.UnknownVersionException;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error as {@code {"error": "..."}} with the status a client can act on. */
public class ErrorMapper {

  /** The error body; {@code reason} is the machine-readable class where there is one. */
  public record ErrorBody(String error, String reason) {}

  static Response error(Response.Status status, String message, String reason) {
    return Response.status(status)
        .type(MediaType.APPLICATION_JSON)
        .entity(new ErrorBody(message, reason))
        .build();
  }

  /** 400 naming the problem; 413 for an image too large to take (bytes, or decoded pixels). */
  @ServerExceptionMapper
  public Response badInput(WireFormatException e) {
    return error(
        e.reason() == WireFormatException.Reason.TOO_LARGE
            ? Response.Status.REQUEST_ENTITY_TOO_LARGE
            : Response.Status.BAD_REQUEST,
        e.describe(),
        e.reason().name());
  }

  @ServerExceptionMapper
  public Response overloaded(HttpAdmission.OverloadedException e) {
    return Response.fromResponse(
            error(Response.Status.SERVICE_UNAVAILABLE, e.getMessage(), "OVERLOADED"))
        .header("Retry-After", "1")
        .build();
  }

  @ServerExceptionMapper
  public Response noModel(NoModelException e) {
    return Response.fromResponse(
            error(Response.Status.SERVICE_UNAVAILABLE, e.getMessage(), "NO_MODEL"))
        .header("Retry-After", "5")
        .build();
  }

  @ServerExceptionMapper
  public Response unknownVersion(UnknownVersionException e) {
    return error(Response.Status.NOT_FOUND, e.getMessage(), "UNKNOWN_VERSION");
  }

  @ServerExceptionMapper
  public Response cannotActivate(ActivationException e) {
    return error(Response.Status.CONFLICT, e.getMessage(), "NOT_ACTIVATABLE");
  }

  @ServerExceptionMapper
  public Response unsupportedType(NotSupportedException e) {
    return error(
        Response.Status.UNSUPPORTED_MEDIA_TYPE,
        "send image/png, image/jpeg or application/json ({\"pixels\": [...]} or {\"png\": \"base64\"})",
        "UNSUPPORTED_MEDIA_TYPE");
  }
}
