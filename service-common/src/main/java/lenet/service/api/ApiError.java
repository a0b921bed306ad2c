package lenet.service.api;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The one shape of every error answer of the services, as the OpenAPI documents describe it: what
 * went wrong in words, and a reason a client can act on ({@code MALFORMED_JSON}, {@code NO_TOKEN},
 * {@code RATE_LIMITED}, ...). Documentation only: the services build these answers as maps.
 */
@Schema(name = "Error", description = "An error answer: what went wrong and why")
public record ApiError(
    @Schema(description = "What went wrong, in words", example = "the request body holds no image")
        String error,
    @Schema(description = "Why, as a word a client can act on", example = "EMPTY") String reason) {}
