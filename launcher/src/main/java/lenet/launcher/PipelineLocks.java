package lenet.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * {@code up} and {@code down} never interleave. {@code pipeline.lock}: held by the {@code up} that
 * is starting things (until its model serves) and by {@code down} while it stops them, one at a
 * time; it names its holder ("up PID", "down PID"). {@code stop.lock}: held by every {@code down}
 * from its first moment to its end; while it is held a stop is requested: a starting {@code up}
 * ends, supervisors restart nothing. Both are OS file locks, so they vanish with their process (a
 * killed {@code down} leaves no marker).
 *
 * <p>A process drops its OS lock on a file when it closes any channel to that file, so this process
 * never opens a file it holds the lock of: a {@code down} running inside a foreground {@code up}
 * (Ctrl-C) answers {@link #stopRequested} from memory.
 */
final class PipelineLocks {

  private static volatile boolean stoppingHere;

  private final Path lock;
  private final Path stopLock;
  private FileChannel lockChannel;
  private FileLock held;
  private FileChannel stopChannel;

  PipelineLocks(Path run) {
    this.lock = run.resolve("pipeline.lock");
    this.stopLock = run.resolve("stop.lock");
  }

  /** Whether a {@code down} (here or in another process) has asked everything to stop. */
  boolean stopRequested() {
    if (stoppingHere) {
      return true;
    }
    if (!Files.exists(stopLock)) {
      return false;
    }
    try (FileChannel ch = FileChannel.open(stopLock, StandardOpenOption.READ)) {
      FileLock shared = ch.tryLock(0, Long.MAX_VALUE, true);
      if (shared == null) {
        return true;
      }
      shared.release();
      return false;
    } catch (OverlappingFileLockException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Takes {@code stop.lock}, waiting for an earlier {@code down} to end. */
  void requestStop() throws IOException {
    stoppingHere = true;
    stopChannel = FileChannel.open(stopLock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    stopChannel.lock();
  }

  /**
   * Whether a {@code down} ran while this process was already running: ended after it started (an
   * {@code up} typed during a {@code down} is refused even when that {@code down} ends before this
   * JVM is up to check). {@code stop.lock} keeps when the last {@code down} ended, in the kernel's
   * clock since boot.
   */
  boolean stoppedSinceStart() {
    try {
      String[] last = Files.readString(stopLock).trim().split(" ");
      if (last.length != 3 || !last[0].equals("stopped") || !last[1].equals(bootTime())) {
        return false;
      }
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      double started = Long.parseLong(fields[19]) / 100.0; // field 22, in clock ticks
      return Double.parseDouble(last[2]) >= started;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static String bootTime() throws IOException {
    return Files.readAllLines(Path.of("/proc/stat")).stream()
        .filter(l -> l.startsWith("btime "))
        .map(l -> l.substring(6).trim())
        .findFirst()
        .orElse("?");
  }

  private static String uptime() throws IOException {
    return Files.readString(Path.of("/proc/uptime")).split(" ")[0];
  }

  /** Takes {@code pipeline.lock} as {@code what} ("up", "down") if free now. */
  boolean tryLock(String what) throws IOException {
    lockChannel = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      held = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      held = null;
    }
    if (held == null) {
      lockChannel.close();
      lockChannel = null;
      return false;
    }
    name(what + " " + ProcessHandle.current().pid());
    return true;
  }

  /** Takes {@code pipeline.lock} as {@code what}, waiting up to {@code seconds}. */
  boolean lock(String what, int seconds) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!tryLock(what)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(200);
    }
    return true;
  }

  /** Empties and releases {@code pipeline.lock} (and {@code stop.lock} when held). */
  void release() {
    try {
      if (held != null) {
        name("");
        held.release();
        lockChannel.close();
        held = null;
      }
      if (stopChannel != null) {
        stopChannel.truncate(0);
        stopChannel.write(
            ByteBuffer.wrap(
                ("stopped " + bootTime() + " " + uptime() + "\n")
                    .getBytes(StandardCharsets.US_ASCII)),
            0);
        stopChannel.close();
        stopChannel = null;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The {@code up} or {@code down} that holds {@code pipeline.lock}, as "up PID" / "down PID";
   * empty when none runs (call only while not holding it).
   */
  Optional<String> holder() {
    try {
      String[] parts = Files.readString(lock).trim().split(" ");
      if (parts.length != 2) {
        return Optional.empty();
      }
      boolean alive =
          ProcessHandle.of(Long.parseLong(parts[1]))
              .flatMap(h -> h.info().commandLine())
              .filter(c -> c.contains("Pipeline " + parts[0]))
              .isPresent();
      return alive ? Optional.of(parts[0] + " " + parts[1]) : Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** "./pipeline up (pid N)", or a general phrase when the holder is gone. */
  String holderNamed() {
    return holder()
        .map(h -> "./pipeline " + h.split(" ")[0] + " (pid " + h.split(" ")[1] + ")")
        .orElse("an earlier ./pipeline up or down");
  }

  private void name(String text) throws IOException {
    lockChannel.truncate(0);
    lockChannel.write(ByteBuffer.wrap((text + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
  }
}
