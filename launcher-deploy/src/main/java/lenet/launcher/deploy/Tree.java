package lenet.launcher.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * A YAML document as SnakeYAML loads it (maps, lists, scalars; merge keys resolved), read by path:
 * {@code tree.at("spec", "template", "spec")}. A missing step gives an empty tree, so optional
 * fields read as their absence.
 */
record Tree(Object node) {

  /** Every document of {@code text}. */
  static List<Tree> documents(String text) {
    List<Tree> out = new ArrayList<>();
    for (Object doc : new Yaml(new LoaderOptions()).loadAll(text)) {
      if (doc != null) {
        out.add(new Tree(doc));
      }
    }
    return out;
  }

  Tree at(String... path) {
    Object n = node;
    for (String step : path) {
      n = n instanceof Map<?, ?> m ? m.get(step) : null;
    }
    return new Tree(n);
  }

  boolean present() {
    return node != null;
  }

  Optional<String> text() {
    return node == null || node instanceof Map || node instanceof List
        ? Optional.empty()
        : Optional.of(String.valueOf(node));
  }

  String text(String fallback) {
    return text().orElse(fallback);
  }

  /** The scalar here; fails naming {@code what} when absent. */
  String required(String what) {
    return text().orElseThrow(() -> new IllegalArgumentException("no " + what));
  }

  int integer(int fallback) {
    return text().map(Integer::parseInt).orElse(fallback);
  }

  List<Tree> items() {
    List<Tree> out = new ArrayList<>();
    if (node instanceof List<?> l) {
      l.forEach(x -> out.add(new Tree(x)));
    }
    return out;
  }

  /** The mapping's entries in file order (empty when not a mapping). */
  List<Map.Entry<String, Tree>> entries() {
    List<Map.Entry<String, Tree>> out = new ArrayList<>();
    if (node instanceof Map<?, ?> m) {
      m.forEach((k, v) -> out.add(Map.entry(String.valueOf(k), new Tree(v))));
    }
    return out;
  }

  String kind() {
    return at("kind").text("");
  }

  String name() {
    return at("metadata", "name").text("");
  }
}
