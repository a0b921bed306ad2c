package lenet.inference.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.Batchifier;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import lenet.contract.wire.ImageEvent;
import lenet.contract.wire.Prediction;

/**
 * A whole micro-batch in, one forward pass, softmax probabilities out: rows of 784 floats in [0,1]
 * become a {@code [N,1,28,28]} tensor, the network's logits become {@code N} rows of 10
 * probabilities.
 *
 * <p>Every array is created on the context's manager, which the predictor closes after each call:
 * arrays on the model's own manager would live as long as the model (a native-memory leak).
 */
final class ProbabilitiesTranslator implements Translator<float[][], float[][]> {

  @Override
  public NDList processInput(TranslatorContext ctx, float[][] rows) {
    float[] flat = new float[rows.length * ImageEvent.PIXELS];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * ImageEvent.PIXELS, ImageEvent.PIXELS);
    }
    NDArray x =
        ctx.getNDManager()
            .create(flat, new Shape(rows.length, 1, ImageEvent.SIDE, ImageEvent.SIDE));
    return new NDList(x);
  }

  @Override
  public float[][] processOutput(TranslatorContext ctx, NDList output) {
    NDArray logits = output.singletonOrThrow();
    float[] flat = logits.softmax(1).toFloatArray();
    int n = flat.length / Prediction.CLASSES;
    float[][] rows = new float[n][Prediction.CLASSES];
    for (int i = 0; i < n; i++) {
      System.arraycopy(flat, i * Prediction.CLASSES, rows[i], 0, Prediction.CLASSES);
    }
    return rows;
  }

  /** The input already is a batch; DJL must not stack it again. */
  @Override
  public Batchifier getBatchifier() {
    return null;
  }
}
