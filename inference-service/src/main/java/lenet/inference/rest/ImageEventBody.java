package lenet.inference.rest;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The JSON body of {@code POST /api/predict} as the OpenAPI document describes it: the image
 * event's shape ({@code lenet.contract.wire.ImageEvent} reads it). Documentation only.
 */
@Schema(
    name = "ImageEvent",
    description = "One image: `pixels` or `png`, not both; `id` is optional (a UUID otherwise)")
record ImageEventBody(
    @Schema(
            description = "Names the prediction (its `id`) and a later label",
            example = "example-1")
        String id,
    @Schema(
            description = "784 values 0..255, row-major 28x28, white digit on black",
            minItems = 784,
            maxItems = 784)
        int[] pixels,
    @Schema(description = "A PNG or JPEG of any size, base64", format = "byte") String png) {}
