package lenet.contract.wire;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * A model checkpoint on the checkpoint topic: a JSON header that carries the version, run, metrics,
 * architecture and the SHA-256 of the parameters, followed by the parameters themselves (DJL's
 * block parameter stream). Binary layout:
 *
 * <pre>
 * int magic 'LNCK'   short format version (1)   int header length   header (UTF-8 JSON)
 * int parameter length   parameter bytes
 * </pre>
 */
public record Checkpoint(Header header, byte[] parameters) {

  public static final int MAGIC = 0x4C4E434B; // "LNCK"
  public static final short FORMAT_VERSION = 1;

  /**
   * What a consumer needs to decide on a checkpoint without loading it.
   *
   * @param modelVersion monotonic across runs and trainer restarts
   * @param parameterCount total scalar parameters (trainable and not)
   * @param sha256 hex SHA-256 of the parameter bytes
   * @param testLoss null except on a run's last epoch
   * @param feedbackAccuracy accuracy on the run's held-out feedback images ({@code feedbackImages}
   *     of them), both null for a run without feedback
   */
  public record Header(
      String modelName,
      long modelVersion,
      String runId,
      int epoch,
      int epochs,
      String architectureId,
      long parameterCount,
      String sha256,
      long createdAt,
      double loss,
      double accuracy,
      double devLoss,
      double devAccuracy,
      Double testLoss,
      Double testAccuracy,
      Double feedbackAccuracy,
      Integer feedbackImages) {

    /** The model name a LeNet-5 checkpoint carries. */
    public static final String LENET5_MODEL_NAME = "lenet5";

    /**
     * The LeNet-5 layer list a checkpoint was written for: it changes whenever the layers change,
     * so a reader refuses an old checkpoint instead of mis-loading it.
     */
    public static final String LENET5_ARCHITECTURE_ID = "lenet5-bn-keras-v1";

    /** The scalar parameters (trainable and not) of a LeNet-5 checkpoint. */
    public static final long LENET5_PARAMETERS = 62_698;

    /** A LeNet-5 header for {@code version}, architecture and parameter count filled in. */
    public static Builder lenet5(long version) {
      return new Builder()
          .modelName(LENET5_MODEL_NAME)
          .modelVersion(version)
          .architectureId(LENET5_ARCHITECTURE_ID)
          .parameterCount(LENET5_PARAMETERS)
          .createdAt(System.currentTimeMillis());
    }

    /** A builder holding this header's fields, to change some of them. */
    public Builder toBuilder() {
      return new Builder()
          .modelName(modelName)
          .modelVersion(modelVersion)
          .runId(runId)
          .epoch(epoch, epochs)
          .architectureId(architectureId)
          .parameterCount(parameterCount)
          .sha256(sha256)
          .createdAt(createdAt)
          .training(loss, accuracy)
          .dev(devLoss, devAccuracy)
          .test(testLoss, testAccuracy)
          .feedback(feedbackAccuracy, feedbackImages);
    }

    /** Builds a header field by field (it has seventeen). */
    public static final class Builder {
      private String modelName;
      private long modelVersion;
      private String runId;
      private int epoch;
      private int epochs;
      private String architectureId;
      private long parameterCount;
      private String sha256;
      private long createdAt;
      private double loss;
      private double accuracy;
      private double devLoss;
      private double devAccuracy;
      private Double testLoss;
      private Double testAccuracy;
      private Double feedbackAccuracy;
      private Integer feedbackImages;

      public Builder modelName(String v) {
        modelName = v;
        return this;
      }

      public Builder modelVersion(long v) {
        modelVersion = v;
        return this;
      }

      public Builder runId(String v) {
        runId = v;
        return this;
      }

      /** Epoch {@code epoch} of {@code epochs}: the last one is the run's final checkpoint. */
      public Builder epoch(int epoch, int epochs) {
        this.epoch = epoch;
        this.epochs = epochs;
        return this;
      }

      public Builder architectureId(String v) {
        architectureId = v;
        return this;
      }

      public Builder parameterCount(long v) {
        parameterCount = v;
        return this;
      }

      public Builder sha256(String v) {
        sha256 = v;
        return this;
      }

      /** The SHA-256 of {@code parameters}. */
      public Builder parametersOf(byte[] parameters) {
        sha256 = Checkpoint.sha256(parameters);
        return this;
      }

      public Builder createdAt(long v) {
        createdAt = v;
        return this;
      }

      public Builder training(double loss, double accuracy) {
        this.loss = loss;
        this.accuracy = accuracy;
        return this;
      }

      public Builder dev(double loss, double accuracy) {
        this.devLoss = loss;
        this.devAccuracy = accuracy;
        return this;
      }

      /** Set on a run's last epoch only. */
      public Builder test(Double loss, Double accuracy) {
        this.testLoss = loss;
        this.testAccuracy = accuracy;
        return this;
      }

      /** Set when the run holds feedback images out: their accuracy and how many. */
      public Builder feedback(Double accuracy, Integer images) {
        this.feedbackAccuracy = accuracy;
        this.feedbackImages = images;
        return this;
      }

      public Header build() {
        return new Header(
            modelName,
            modelVersion,
            runId,
            epoch,
            epochs,
            architectureId,
            parameterCount,
            sha256,
            createdAt,
            loss,
            accuracy,
            devLoss,
            devAccuracy,
            testLoss,
            testAccuracy,
            feedbackAccuracy,
            feedbackImages);
      }
    }
  }

  /**
   * The record key of a checkpoint, {@code <model>/v<version>}: one key per version, so compaction
   * never drops a version for a newer one.
   */
  public static String key(String modelName, long version) {
    return modelName + "/v" + version;
  }

  /**
   * The key of a version claim on the checkpoint topic ({@code <model>/claim}): the trainer's
   * version is the offset Kafka gives the claim, plus one. Not a checkpoint: readers skip it.
   */
  public static String claimKey(String modelName) {
    return modelName + "/claim";
  }

  /**
   * Whether a checkpoint record key belongs to {@code modelName}: its per-version key, or the bare
   * model name that builds before per-version keys used.
   */
  public static boolean keyBelongsTo(String key, String modelName) {
    return key == null || key.equals(modelName) || key.startsWith(modelName + "/v");
  }

  /** The version in a per-version key, or -1 for the bare model name (or anything else). */
  public static long versionOfKey(String key) {
    int at = key == null ? -1 : key.lastIndexOf("/v");
    if (at < 0) {
      return -1;
    }
    try {
      return Long.parseLong(key.substring(at + 2));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  public byte[] encode() {
    byte[] head = Json.write(header);
    return ByteBuffer.allocate(4 + 2 + 4 + head.length + 4 + parameters.length)
        .putInt(MAGIC)
        .putShort(FORMAT_VERSION)
        .putInt(head.length)
        .put(head)
        .putInt(parameters.length)
        .put(parameters)
        .array();
  }

  /**
   * Decodes a checkpoint and verifies its parameters against the header's SHA-256.
   *
   * @throws WireFormatException naming the problem (corrupt, truncated, checksum mismatch)
   */
  public static Checkpoint decode(byte[] bytes) {
    if (bytes == null || bytes.length < 14) {
      throw bad("is " + (bytes == null ? 0 : bytes.length) + " bytes, shorter than its header");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    int magic = buf.getInt();
    if (magic != MAGIC) {
      throw bad("has magic 0x" + Integer.toHexString(magic) + ", expected 0x4c4e434b ('LNCK')");
    }
    short version = buf.getShort();
    if (version != FORMAT_VERSION) {
      throw bad("has format version " + version + "; this build reads " + FORMAT_VERSION);
    }
    int headLength = buf.getInt();
    if (headLength <= 0 || headLength > buf.remaining() - 4) {
      throw bad("declares a header of " + headLength + " bytes in a record of " + bytes.length);
    }
    byte[] head = new byte[headLength];
    buf.get(head);
    Header header;
    try {
      header = Json.MAPPER.readValue(head, Header.class);
    } catch (Exception e) {
      throw bad(
          "has an unreadable header: "
              + new String(head, 0, Math.min(80, head.length), StandardCharsets.UTF_8));
    }
    int paramLength = buf.getInt();
    if (paramLength != buf.remaining()) {
      throw bad("declares " + paramLength + " parameter bytes but holds " + buf.remaining());
    }
    byte[] params = new byte[paramLength];
    buf.get(params);
    String actual = sha256(params);
    if (!actual.equals(header.sha256())) {
      throw bad(
          "v"
              + header.modelVersion()
              + " fails its SHA-256 check (header "
              + header.sha256()
              + ", parameters "
              + actual
              + ")");
    }
    return new Checkpoint(header, params);
  }

  private static WireFormatException bad(String problem) {
    return new WireFormatException(Reason.BAD_BINARY_FORMAT, "checkpoint " + problem);
  }
}
