package lenet.contract.wire;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * {@code {"cancel": "<runId>"}} on {@code training.commands}: stops that run if it is queued, or
 * within one epoch if it is running.
 */
public record CancelCommand(String cancel) {

  /** Whether a command record is a cancel (it has a {@code cancel} field), valid or not. */
  public static boolean isCancel(byte[] json) {
    try {
      return Json.MAPPER.readTree(json).has("cancel");
    } catch (Exception e) {
      return false;
    }
  }

  /**
   * @throws WireFormatException when it is not exactly {@code {"cancel": "<runId>"}}
   */
  public static CancelCommand decode(byte[] json) {
    ObjectNode node = Json.readObject(json, 64 * 1024, "cancel command");
    Json.onlyFields(node, Set.of("cancel"), "cancel command");
    String id = Json.optString(node, "cancel");
    if (!TrainingCommand.validRunId(id)) {
      throw new WireFormatException(
          Reason.INVALID_VALUE, "'cancel' must name a run id (letters, digits, '.', '_', '-')");
    }
    return new CancelCommand(id);
  }

  public byte[] encode() {
    return Json.write(this);
  }
}
