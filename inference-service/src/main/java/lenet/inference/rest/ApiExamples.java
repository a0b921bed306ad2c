package lenet.inference.rest;

/**
 * The examples of the OpenAPI document ({@code /q/openapi}), all of MNIST test image #0, a 7 (as
 * {@code docs/examples/image-event.json}): its 784 pixels, the same as a PNG in base64, and the
 * files {@code /examples/seven.png} and {@code /examples/seven.u8} (the raw pixels) that this
 * service serves for the binary bodies. {@code ApiDocumentTest} sends every one of them.
 */
final class ApiExamples {

  /** What {@code POST /api/predict} takes, the same for each media type it is declared under. */
  static final String PREDICT_DESCRIPTION =
      "The body is one image, in any of four forms: a PNG or JPEG of any size (brought to"
          + " MNIST form; dark on light is fine); JSON in the image event's shape,"
          + " `{\"pixels\": [784 values 0..255]}` (row-major 28x28, white on black) or"
          + " `{\"png\": \"base64\"}`, with an optional `id`; the 784 pixels as raw bytes"
          + " (`application/x-mnist-u8`); or `application/octet-stream`: exactly 784 bytes"
          + " without an image signature are the raw pixels, anything else is read as an image.";

  /** The 784 pixels, row-major, 0..255, white digit on black. */
  static final String PIXELS =
      "["
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 84, 185, 159, 151, 60, 36, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 222, 254, 254, 254, 254, 241, 198, 198, 198, 198, 198, 198, 198, 198, 170, 52, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 67, 114, 72, 114, 163, 227, 254, 225, 254, 254, 254, 250, 229, 254, 254, 140, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 66, 14, 67, 67, 67, 59, 21, 236, 254, 106, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 83, 253, 209, 18, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 22, 233, 255, 83, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 129, 254, 238, 44, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 59, 249, 254, 62, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 133, 254, 187, 5, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 205, 248, 58, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 126, 254, 182, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 75, 251, 240, 57, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 19, 221, 254, 166, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 203, 254, 219, 35, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 38, 254, 254, 77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 31, 224, 254, 115, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 133, 254, 254, 52, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 61, 242, 254, 254, 52, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 121, 254, 254, 219, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 121, 254, 207, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
          + "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0"
          + "]";

  /** The image event with pixels. */
  static final String PIXELS_EVENT = "{\"id\": \"example-1\", \"pixels\": " + PIXELS + "}";

  /** The same digit as a 28x28 grey PNG, base64. */
  static final String PNG_BASE64 =
      ""
          + "iVBORw0KGgoAAAANSUhEUgAAABwAAAAcCAAAAABXZoBIAAAAo0lEQVR42mNgGG4gZOf86TYqOCTv/QOC"
          + "j8egYJUJiqRzkUfR4sf/HgKV/Hr6718PpnZBJz5nZ2dr0Tf/snDaH/z3ohAuObGX/4Nxamz8904Hl5z1"
          + "z392ODW2/tvNikuO8+wPK5wa6/5twynn/fuDJS454bv/luGSYz7977YyLkm1f/98ccnJP/hXzIjbi/9M"
          + "cMnZfsIjWfnv320N3JLnhUhIWQDoRUgXuTMqowAAAABJRU5ErkJggg==";

  /** The image event with a PNG. */
  static final String PNG_EVENT = "{\"id\": \"example-2\", \"png\": \"" + PNG_BASE64 + "\"}";

  static final String PNG_FILE = "/examples/seven.png";
  static final String RAW_FILE = "/examples/seven.u8";

  /** A prediction. */
  static final String PREDICTION =
      "{\"id\": \"example-1\", \"digit\": 7, \"confidence\": 0.99991, \"probabilities\":"
          + " [1.2E-7, 3.1E-6, 2.4E-5, 1.1E-5, 2.0E-8, 2.2E-7, 1.0E-10, 0.99991, 9.6E-7,"
          + " 4.9E-5], \"modelVersion\": 12}";

  /** An OIP request: the digit as UINT8 [1,28,28], flat. */
  static final String OIP_UINT8 =
      "{\"id\": \"req-1\", \"inputs\": [{\"name\": \"images\", \"datatype\": \"UINT8\","
          + " \"shape\": [1, 28, 28], \"data\": "
          + PIXELS
          + "}]}";

  /** An OIP answer. */
  static final String OIP_RESPONSE =
      "{\"model_name\": \"lenet5\", \"model_version\": \"12\", \"id\": \"req-1\","
          + " \"outputs\": [{\"name\": \"probabilities\", \"datatype\": \"FP32\", \"shape\":"
          + " [1, 10], \"data\": [1.2E-7, 3.1E-6, 2.4E-5, 1.1E-5, 2.0E-8, 2.2E-7, 1.0E-10,"
          + " 0.99991, 9.6E-7, 4.9E-5]}]}";

  /** The model's OIP metadata. */
  static final String OIP_METADATA =
      "{\"name\": \"lenet5\", \"versions\": [\"12\"], \"platform\": \"pytorch_djl\","
          + " \"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [-1, 1,"
          + " 28, 28]}], \"outputs\": [{\"name\": \"probabilities\", \"datatype\": \"FP32\","
          + " \"shape\": [-1, 10]}]}";

  private ApiExamples() {}
}
