package lenet.launcher.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lenet.launcher.Component;
import lenet.launcher.Launched;
import lenet.launcher.Launcher;
import lenet.launcher.NotReadyException;

/**
 * One replica of a {@link Workload}: a packaged service started through the launcher with the
 * environment its container would see, on a port of its own (127.0.0.1), its volumes in folders of
 * its own. Killing and starting it again is a container restart: its folders (an emptyDir) stay.
 */
public final class Pod {

  private static final Pattern AUTHORIZATION =
      Pattern.compile("\\b(\\w*AuthorizationException|\\w*AuthenticationException)[^\\n]*");

  private final String name;
  private final Workload workload;
  private final int port;
  private final Path dir;
  private volatile Component component;
  private volatile Launched process;

  Pod(String name, Workload workload, int port, Path dir, Component component) {
    this.name = name;
    this.workload = workload;
    this.port = port;
    this.dir = dir;
    this.component = component;
  }

  public String name() {
    return name;
  }

  public Workload workload() {
    return workload;
  }

  /** Its HTTP port on 127.0.0.1 (the container port, mapped). */
  public int port() {
    return port;
  }

  /** Where its volumes live. */
  public Path dir() {
    return dir;
  }

  public Path log() {
    return component.log();
  }

  /** The environment it runs with. */
  public Map<String, String> environment() {
    return component.environment();
  }

  /**
   * The HTTP path of its probe {@code kind} ({@code startup}, {@code liveness}, {@code readiness}).
   */
  public Optional<String> probe(String kind) {
    return Optional.ofNullable(workload.probes().get(kind));
  }

  public synchronized Pod start() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " runs already");
    }
    process = Launcher.start(component);
    return this;
  }

  /** Starts it again with another environment (a changed ConfigMap or Secret, then a restart). */
  synchronized void replace(Component next) {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " runs: stop it first");
    }
    component = next;
  }

  /**
   * Waits until its startup probe's path answers 200 (its liveness path when it has none); fails
   * with the log's authorization error when one is there.
   */
  public Pod awaitStarted(Duration timeout) throws InterruptedException {
    try {
      process.awaitReady(timeout);
      return this;
    } catch (NotReadyException e) {
      throw new IllegalStateException(
          e.getMessage() + authorizationError().map(a -> "; its log says: " + a).orElse(""), e);
    }
  }

  /**
   * The first authorization or authentication error its current process logged (the log after the
   * launcher's last start header), if any.
   */
  public Optional<String> authorizationError() {
    try {
      String text = Files.readString(log(), StandardCharsets.UTF_8);
      int start = text.lastIndexOf(Launcher.HEADER);
      Matcher m = AUTHORIZATION.matcher(start < 0 ? text : text.substring(start));
      return m.find() ? Optional.of(m.group().strip()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /** {@code kill -9}. */
  public synchronized void kill() {
    if (process != null) {
      process.kill();
    }
  }

  /** SIGTERM, SIGKILL after {@code grace}. */
  public synchronized void stop(Duration grace) {
    if (process != null) {
      process.stop(grace);
    }
  }

  List<String> command() {
    return component.command();
  }
}
