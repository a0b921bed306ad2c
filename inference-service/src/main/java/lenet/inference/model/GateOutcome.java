package lenet.inference.model;

import lenet.contract.wire.ModelControl;

/**
 * What the promotion gate measured on a candidate, and whether it passed.
 *
 * @param gate the figures as the verdict records them
 * @param reason the outcome in words
 * @param failureReason a {@code WireFormatException.Reason} name when the model is broken (it
 *     cannot serve at all), else null
 */
record GateOutcome(boolean passed, ModelControl.Gate gate, String reason, String failureReason) {}
