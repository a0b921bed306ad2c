package lenet.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * A process's PID in a file of its own (nothing else, so {@code kill $(cat x.pid)} works), its
 * start time beside it ({@code x.pid.started}): a PID counts as the one written only while a
 * process with that PID and that start time runs, so a reused PID is never taken for it and never
 * signalled.
 */
public record PidFile(Path path) {

  private Path started() {
    return path.resolveSibling(path.getFileName() + ".started");
  }

  public void write(ProcessHandle process) {
    try {
      Files.createDirectories(path.toAbsolutePath().getParent());
      Files.writeString(started(), startOf(process).map(i -> "" + i.toEpochMilli()).orElse(""));
      Files.writeString(path, process.pid() + "\n", StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The PID written, whether or not it still runs. */
  public Optional<Long> pid() {
    try {
      String text = Files.readString(path, StandardCharsets.US_ASCII).trim();
      return text.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(text));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * The process written here, while it runs (and is that process, not a later one with its PID).
   */
  public Optional<ProcessHandle> running() {
    Optional<ProcessHandle> handle =
        pid().flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive);
    if (handle.isEmpty()) {
      return Optional.empty();
    }
    String written;
    try {
      written = Files.readString(started()).trim();
    } catch (IOException e) {
      return Optional.empty();
    }
    Optional<String> now = startOf(handle.get()).map(i -> "" + i.toEpochMilli());
    return now.isPresent() && now.get().equals(written) ? handle : Optional.empty();
  }

  public void delete() {
    try {
      Files.deleteIfExists(path);
      Files.deleteIfExists(started());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Optional<Instant> startOf(ProcessHandle process) {
    return process.info().startInstant();
  }
}
