package lenet.e2e.docs;

import com.github.javaparser.JavaParser;
import com.github.javaparser.ParseResult;
import com.github.javaparser.ParserConfiguration;
import com.github.javaparser.ParserConfiguration.LanguageLevel;
import com.github.javaparser.ast.CompilationUnit;
import com.github.javaparser.ast.body.CallableDeclaration;
import com.github.javaparser.ast.body.TypeDeclaration;
import com.github.javaparser.ast.comments.JavadocComment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import lenet.e2e.deploy.ServiceSettings.Declaration;

/**
 * The javadoc of the project's own classes, read from their sources with JavaParser (javadoc is not
 * in the class files): what a config accessor, an injected parameter (its {@code @param}) or a
 * field says, as one line of Markdown ({@code {@code x}} and {@code {@link x}} as {@code `x`}).
 */
final class SourceDocs {

  private final List<Path> sourceRoots;
  private final JavaParser parser =
      new JavaParser(new ParserConfiguration().setLanguageLevel(LanguageLevel.JAVA_17));
  private final Map<Path, CompilationUnit> parsed = new HashMap<>();

  /** Reads the main sources of every module under {@code repo} ({@code * /src/main/java}). */
  SourceDocs(Path repo) {
    try (Stream<Path> modules = Files.list(repo)) {
      this.sourceRoots =
          modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The description of a method's javadoc (a config mapping's accessor). */
  Optional<String> of(Method method) {
    return type(method.getDeclaringClass().getName())
        .flatMap(
            t ->
                t.getMethodsByName(method.getName()).stream()
                    .filter(m -> m.getParameters().size() == method.getParameterCount())
                    .findFirst())
        .flatMap(m -> m.getJavadocComment())
        .map(j -> markdown(description(j)));
  }

  /**
   * What the code says of an injection point: the {@code @param} tag of its constructor's or
   * method's javadoc, or the field's javadoc.
   */
  Optional<String> of(Declaration.Injected point) {
    Optional<TypeDeclaration<?>> type = type(point.className());
    if (type.isEmpty()) {
      return Optional.empty();
    }
    if (point.position() < 0) {
      return type.get()
          .getFieldByName(point.member())
          .flatMap(f -> f.getJavadocComment())
          .map(j -> markdown(description(j)));
    }
    Stream<? extends CallableDeclaration<?>> callables =
        point.member().equals("<init>")
            ? type.get().getConstructors().stream()
            : type.get().getMethodsByName(point.member()).stream();
    return callables
        .filter(c -> c.getParameters().size() == point.parameterCount())
        .findFirst()
        .flatMap(
            c -> {
              String name = c.getParameter(point.position()).getNameAsString();
              return c.getJavadocComment().flatMap(j -> param(j, name)).map(SourceDocs::markdown);
            });
  }

  /** The class's declaration in its module's sources (nested classes too). */
  private Optional<TypeDeclaration<?>> type(String binaryName) {
    String top =
        binaryName.contains("$") ? binaryName.substring(0, binaryName.indexOf('$')) : binaryName;
    String file = top.replace('.', '/') + ".java";
    String name = binaryName.replace('$', '.');
    return sourceRoots.stream()
        .map(root -> root.resolve(file))
        .filter(Files::isRegularFile)
        .findFirst()
        .map(this::parse)
        .flatMap(
            cu ->
                cu.findFirst(
                    TypeDeclaration.class,
                    t -> t.getFullyQualifiedName().filter(name::equals).isPresent()))
        .map(t -> (TypeDeclaration<?>) t);
  }

  private CompilationUnit parse(Path file) {
    return parsed.computeIfAbsent(
        file,
        f -> {
          try {
            ParseResult<CompilationUnit> result = parser.parse(f);
            return result
                .getResult()
                .orElseThrow(
                    () ->
                        new IllegalStateException(f + " does not parse: " + result.getProblems()));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /** The lines of a javadoc comment without its {@code *} margin. */
  private static List<String> lines(JavadocComment comment) {
    return comment.getContent().lines().map(l -> l.strip().replaceFirst("^\\*\\s?", "")).toList();
  }

  /** The text before the first block tag. */
  private static String description(JavadocComment comment) {
    StringBuilder text = new StringBuilder();
    for (String line : lines(comment)) {
      if (line.startsWith("@")) {
        break;
      }
      text.append(line).append('\n');
    }
    return text.toString();
  }

  /** The text of the {@code @param} block tag of parameter {@code name}. */
  private static Optional<String> param(JavadocComment comment, String name) {
    StringBuilder text = null;
    for (String line : lines(comment)) {
      if (line.startsWith("@")) {
        if (text != null) {
          break;
        }
        String[] words = line.split("\\s+", 3);
        if (words[0].equals("@param") && words.length > 1 && words[1].equals(name)) {
          text = new StringBuilder(words.length > 2 ? words[2] : "").append('\n');
        }
      } else if (text != null) {
        text.append(line).append('\n');
      }
    }
    return Optional.ofNullable(text).map(StringBuilder::toString);
  }

  /**
   * One line of Markdown: inline tags ({@code {@code x}}, {@code {@link #x}}) as code, braces
   * inside them balanced; HTML paragraphs and entities resolved.
   */
  static String markdown(String javadoc) {
    StringBuilder text = new StringBuilder();
    int i = 0;
    while (i < javadoc.length()) {
      if (javadoc.startsWith("{@", i)) {
        int depth = 0;
        int end = i;
        while (end < javadoc.length()) {
          char c = javadoc.charAt(end);
          depth += c == '{' ? 1 : c == '}' ? -1 : 0;
          if (depth == 0) {
            break;
          }
          end++;
        }
        String[] tag = javadoc.substring(i + 2, Math.min(end, javadoc.length())).split("\\s+", 2);
        String content = tag.length > 1 ? tag[1].strip() : "";
        if (tag[0].startsWith("link") && content.startsWith("#")) {
          content = content.substring(1);
        }
        text.append('`').append(content).append('`');
        i = end + 1;
      } else {
        text.append(javadoc.charAt(i++));
      }
    }
    return text.toString()
        .replaceAll("</?p>", " ")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&")
        .replaceAll("\\s+", " ")
        .strip();
  }
}
