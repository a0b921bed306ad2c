package lenet.e2e.deploy;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * The environment a deployment file gives each service, one {@link Entry} per variable per file and
 * line: the {@code environment} of every docker-compose service that runs a {@code lenet/<service>}
 * image, and under {@code deploy/} every container {@code env} entry of a Deployment (or patch of
 * one) named after its service and every {@code data} entry of a ConfigMap (or patch of one) that a
 * service's container takes with {@code envFrom}. Every value in every file is read, before any
 * kustomize merging, so an overlay's patch is checked as well as what it replaces.
 *
 * <p>An entry is {@linkplain Entry#explained() explained} when its line ends with a comment
 * starting {@code # differs:}, or when the block of comment lines right above it holds a line
 * starting {@code # differs:}, each followed by the reason.
 */
final class DeploymentEnv {

  /** Marks the comment that says why a setting differs from the code's default. */
  static final String MARKER = "# differs:";

  /** Where a variable's value comes from. */
  enum Source {
    /** Written in the file. */
    FILE,
    /** Passed through from the operator's shell or .env (compose) only when set there. */
    SHELL,
    /** Read from a Secret or another object at run time: not in the file. */
    REFERENCE
  }

  /**
   * One variable a file gives one service.
   *
   * @param value what the service receives ({@link Source#FILE}; for compose, the default of a
   *     {@code ${VAR:-default}}); null otherwise
   */
  record Entry(
      String file,
      int line,
      String service,
      String name,
      Source source,
      String value,
      boolean explained) {

    String where() {
      return file + ":" + line;
    }
  }

  private static final Pattern LENET_IMAGE = Pattern.compile("^lenet/([a-z0-9-]+)(:.*)?$");
  private static final Pattern INTERPOLATION =
      Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?}");

  private final String file;
  private final List<String> lines;
  private final List<Node> documents = new ArrayList<>();

  private DeploymentEnv(String file, String text) {
    this.file = file;
    this.lines = text.lines().toList();
    LoaderOptions options = new LoaderOptions();
    for (Node doc : new Yaml(options).composeAll(new StringReader(text))) {
      if (doc != null) {
        documents.add(doc);
      }
    }
  }

  /** The variables of a docker-compose file, {@code text} named {@code file} in messages. */
  static List<Entry> compose(String file, String text) {
    DeploymentEnv yaml = new DeploymentEnv(file, text);
    List<Entry> entries = new ArrayList<>();
    for (Node doc : yaml.documents) {
      for (NodeTuple service : tuples(child(doc, "services"))) {
        Node body = service.getValueNode();
        Matcher image = LENET_IMAGE.matcher(scalar(child(body, "image")).orElse(""));
        Node env = child(body, "environment");
        if (!image.matches() || env == null) {
          continue;
        }
        String svc = image.group(1);
        if (env instanceof SequenceNode list) {
          for (Node item : list.getValue()) {
            String[] kv = scalar(item).orElse("").split("=", 2);
            entries.add(yaml.composeEntry(item, svc, kv[0], kv.length == 2 ? kv[1] : null));
          }
        } else {
          for (NodeTuple t : tuples(env)) {
            entries.add(
                yaml.composeEntry(
                    t.getKeyNode(),
                    svc,
                    scalar(t.getKeyNode()).orElseThrow(),
                    scalar(t.getValueNode()).orElse(null)));
          }
        }
      }
    }
    return entries;
  }

  /**
   * The variables of a kustomize tree, every file read: {@code files} maps each file's name (for
   * messages) to its text.
   */
  static List<Entry> kustomize(Map<String, String> files) {
    List<Entry> entries = new ArrayList<>();
    Map<String, Set<String>> configMapUsers = new LinkedHashMap<>();
    List<Entry> configMapData = new ArrayList<>(); // service = the ConfigMap's name, for now
    for (Map.Entry<String, String> f : files.entrySet()) {
      DeploymentEnv yaml = new DeploymentEnv(f.getKey(), f.getValue());
      for (Node doc : yaml.documents) {
        String kind = scalar(child(doc, "kind")).orElse("");
        if (kind.equals("ConfigMap")) {
          String name = scalar(child(child(doc, "metadata"), "name")).orElseThrow();
          for (NodeTuple t : tuples(child(doc, "data"))) {
            configMapData.add(
                yaml.entry(
                    t.getKeyNode(),
                    name,
                    scalar(t.getKeyNode()).orElseThrow(),
                    Source.FILE,
                    scalar(t.getValueNode()).orElse("")));
          }
        } else if (kind.equals("Deployment")) {
          Node podSpec = child(child(child(doc, "spec"), "template"), "spec");
          for (Node container : items(child(podSpec, "containers"))) {
            String svc = scalar(child(container, "name")).orElseThrow();
            for (Node from : items(child(container, "envFrom"))) {
              scalar(child(child(from, "configMapRef"), "name"))
                  .ifPresent(
                      cm -> configMapUsers.computeIfAbsent(cm, k -> new TreeSet<>()).add(svc));
            }
            for (Node e : items(child(container, "env"))) {
              Node nameNode = child(e, "name");
              Optional<String> value = scalar(child(e, "value"));
              entries.add(
                  yaml.entry(
                      nameNode,
                      svc,
                      scalar(nameNode).orElseThrow(),
                      value.isPresent() ? Source.FILE : Source.REFERENCE,
                      value.orElse(null)));
            }
          }
        }
      }
    }
    for (Entry e : configMapData) {
      for (String svc : configMapUsers.getOrDefault(e.service(), Set.of())) {
        entries.add(
            new Entry(e.file(), e.line(), svc, e.name(), e.source(), e.value(), e.explained()));
      }
    }
    return entries;
  }

  /** Reads every {@code *.yaml} file under {@code dir} for {@link #kustomize(Map)}. */
  static List<Entry> kustomize(Path root, Path dir) {
    Map<String, String> files = new LinkedHashMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p :
          (Iterable<Path>) walk.filter(p -> p.toString().endsWith(".yaml")).sorted()::iterator) {
        files.put(root.relativize(p).toString(), Files.readString(p));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return kustomize(files);
  }

  /** Reads a docker-compose file for {@link #compose(String, String)}. */
  static List<Entry> compose(Path root, Path file) {
    try {
      return compose(root.relativize(file).toString(), Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Entry composeEntry(Node at, String service, String name, String raw) {
    if (raw == null) {
      return entry(at, service, name, Source.SHELL, null);
    }
    Matcher m = INTERPOLATION.matcher(raw);
    if (m.matches() && m.group(2) == null) {
      return entry(at, service, name, Source.SHELL, null);
    }
    // ${VAR:-default}: what the service gets unless the operator's shell sets VAR.
    String value =
        m.replaceAll(r -> Matcher.quoteReplacement(r.group(3) == null ? "" : r.group(3)))
            .replace("$$", "$");
    return entry(at, service, name, Source.FILE, value);
  }

  private Entry entry(Node at, String service, String name, Source source, String value) {
    int line = at.getStartMark().getLine();
    return new Entry(file, line + 1, service, name, source, value, explained(line));
  }

  /** Whether line {@code index} (0-based) carries or follows a {@code # differs:} comment. */
  private boolean explained(int index) {
    if (reason(lines.get(index))) {
      return true;
    }
    for (int i = index - 1; i >= 0 && lines.get(i).trim().startsWith("#"); i--) {
      if (reason(lines.get(i))) {
        return true;
      }
    }
    return false;
  }

  /** A marker followed by a reason. */
  private static boolean reason(String line) {
    int at = line.indexOf(MARKER);
    return at >= 0 && !line.substring(at + MARKER.length()).isBlank();
  }

  // --- node helpers ------------------------------------------------------------------------------

  /** The mapping's entries, a merge key ({@code <<: *anchor}) replaced by the anchor's entries. */
  private static List<NodeTuple> tuples(Node node) {
    List<NodeTuple> out = new ArrayList<>();
    if (node instanceof MappingNode m) {
      for (NodeTuple t : m.getValue()) {
        if (scalar(t.getKeyNode()).orElse("").equals("<<")) {
          Node merged = t.getValueNode();
          for (Node n : merged instanceof SequenceNode s ? s.getValue() : List.of(merged)) {
            out.addAll(tuples(n));
          }
        } else {
          out.add(t);
        }
      }
    }
    return out;
  }

  private static Node child(Node node, String key) {
    for (NodeTuple t : tuples(node)) {
      if (scalar(t.getKeyNode()).orElse("").equals(key)) {
        return t.getValueNode();
      }
    }
    return null;
  }

  private static List<Node> items(Node node) {
    return node instanceof SequenceNode s ? s.getValue() : List.of();
  }

  private static Optional<String> scalar(Node node) {
    return node instanceof ScalarNode s && !s.getTag().getValue().endsWith(":null")
        ? Optional.of(s.getValue())
        : Optional.empty();
  }
}
