package lenet.contract.wire;

import java.util.List;
import java.util.Map;
import lenet.contract.wire.WireFormatException.Reason;

/**
 * Names one complete copy of a dataset on Kafka; published on the compacted manifest topic (key =
 * dataset name) only after every batch it names was acknowledged. A reader takes, per split, the
 * records {@code firstOffset..lastOffset} of partition 0 of {@code topic}: exactly {@code batches}
 * batches holding {@code images} images.
 *
 * @param datasetId SHA-256 (hex, first 16 chars) of the source files; re-ingesting the same files
 *     keeps the id
 * @param splits keyed by lower-case split name: train, dev, test
 */
public record DatasetManifest(
    String dataset,
    String datasetId,
    long createdAt,
    int batchSize,
    Map<String, SplitInfo> splits) {

  /**
   * @param sha256 hex SHA-256 over the split's batch record values in order
   * @param labelCounts images per class 0..9
   */
  public record SplitInfo(
      String topic,
      int partition,
      long firstOffset,
      long lastOffset,
      int images,
      int batches,
      String sha256,
      List<Integer> labelCounts) {}

  public SplitInfo split(DatasetBatch.Split split) {
    SplitInfo info = splits.get(split.name().toLowerCase());
    if (info == null) {
      throw new WireFormatException(
          Reason.MISSING_FIELD, "manifest " + datasetId + " lacks split " + split);
    }
    return info;
  }

  public byte[] encode() {
    return Json.write(this);
  }

  public static DatasetManifest decode(byte[] json) {
    try {
      DatasetManifest m =
          Json.MAPPER.treeToValue(
              Json.readObject(json, 1 << 20, "dataset manifest"), DatasetManifest.class);
      if (m.datasetId() == null || m.splits() == null) {
        throw new WireFormatException(
            Reason.MISSING_FIELD, "dataset manifest lacks datasetId or splits");
      }
      return m;
    } catch (WireFormatException e) {
      throw e;
    } catch (Exception e) {
      throw new WireFormatException(Reason.WRONG_TYPE, "dataset manifest: " + e.getMessage(), e);
    }
  }
}
