package lenet.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import lenet.contract.wire.Checkpoint;
import lenet.contract.wire.WireFormatException;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * Moves LeNet-5 parameters in and out of checkpoints, the one way both the trainer and the
 * inference service do it.
 */
public final class ModelIO {

  private ModelIO() {}

  /** DJL's parameter stream of an initialized block (~253 KB for LeNet-5). */
  public static byte[] parameters(Block block) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(260 * 1024);
    try (DataOutputStream data = new DataOutputStream(out)) {
      block.saveParameters(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * Reads {@link #parameters} back into a fresh (uninitialized) LeNet-5 block.
   *
   * @throws WireFormatException when the stream does not fit the block
   */
  public static void loadParameters(Block block, NDManager manager, byte[] parameters) {
    try {
      block.loadParameters(manager, new DataInputStream(new ByteArrayInputStream(parameters)));
    } catch (IOException | MalformedModelException | RuntimeException e) {
      throw new WireFormatException(
          Reason.BAD_BINARY_FORMAT, "parameters cannot be loaded: " + e.getMessage(), e);
    }
    long loaded = parameterCount(block);
    if (loaded != LeNet5.TOTAL_PARAMETERS) {
      throw new WireFormatException(
          Reason.INVALID_VALUE,
          "loaded " + loaded + " parameters, LeNet-5 has " + LeNet5.TOTAL_PARAMETERS);
    }
  }

  public static long parameterCount(Block block) {
    long n = 0;
    for (Pair<String, Parameter> p : block.getParameters()) {
      n += p.getValue().getArray().size();
    }
    return n;
  }

  /**
   * Refuses a checkpoint built for another architecture or with the wrong parameter count, before
   * anything is loaded.
   *
   * @throws WireFormatException naming the mismatch
   */
  public static void checkCompatible(Checkpoint.Header h) {
    if (!LeNet5.ARCHITECTURE_ID.equals(h.architectureId())) {
      throw new WireFormatException(
          Reason.INVALID_VALUE,
          "checkpoint v"
              + h.modelVersion()
              + " is for architecture '"
              + h.architectureId()
              + "', this service runs '"
              + LeNet5.ARCHITECTURE_ID
              + "'");
    }
    if (h.parameterCount() != LeNet5.TOTAL_PARAMETERS) {
      throw new WireFormatException(
          Reason.INVALID_VALUE,
          "checkpoint v"
              + h.modelVersion()
              + " declares "
              + h.parameterCount()
              + " parameters, LeNet-5 has "
              + LeNet5.TOTAL_PARAMETERS);
    }
  }

  /**
   * Builds a fresh LeNet-5 on {@code device} and loads a checkpoint into it, refusing one built for
   * another architecture or with the wrong parameter count. The caller owns (and closes) the model.
   *
   * @throws WireFormatException when the checkpoint does not fit this network
   */
  public static Model load(Checkpoint checkpoint, Device device) {
    Checkpoint.Header h = checkpoint.header();
    checkCompatible(h);
    Model model = Model.newInstance(LeNet5.MODEL_NAME, device, "PyTorch");
    try {
      Block block = LeNet5.newBlock();
      model.setBlock(block);
      loadParameters(block, model.getNDManager(), checkpoint.parameters());
      return model;
    } catch (WireFormatException e) {
      model.close();
      throw new WireFormatException(
          e.reason(), "checkpoint v" + h.modelVersion() + " " + e.getMessage(), e.getCause());
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }
}
