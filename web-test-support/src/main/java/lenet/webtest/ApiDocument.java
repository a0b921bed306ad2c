package lenet.webtest;

import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Path;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A service's OpenAPI document ({@code /q/openapi}) against its code: every JAX-RS endpoint of the
 * service's own classes ({@code target/classes}, found by their {@code @Path} and HTTP method
 * annotations) is in the document and nothing else is; each says what it does (a summary) and which
 * answers it gives; each that needs the API token ({@code @RolesAllowed}) names the {@code
 * apiToken} security scheme. Run inside a {@code @QuarkusTest}: RestAssured points at the service.
 */
public final class ApiDocument {

  /** The security scheme of the API token, as service-common names it. */
  public static final String SECURITY_SCHEME = "apiToken";

  private ApiDocument() {}

  /** The document as JSON. */
  public static JsonPath fetch() {
    return RestAssured.given()
        .queryParam("format", "json")
        .get("/q/openapi")
        .then()
        .statusCode(200)
        .extract()
        .jsonPath();
  }

  /**
   * Fails unless the document describes exactly the endpoints of the service's classes, each with a
   * summary and its answers, and the token's scheme on those that need it.
   *
   * @return the document, for further checks
   */
  public static JsonPath assertDescribesEveryEndpoint() {
    JsonPath document = fetch();
    SortedMap<String, Method> code = endpoints(java.nio.file.Path.of("target", "classes"));
    if (code.isEmpty()) {
      throw new AssertionError("no JAX-RS endpoint found in target/classes");
    }
    Map<String, Map<String, Object>> paths = document.getMap("paths");
    TreeSet<String> described = new TreeSet<>();
    paths.forEach(
        (path, item) ->
            item.keySet().stream()
                .filter(HTTP_METHODS::contains)
                .forEach(m -> described.add(m.toUpperCase() + " " + path)));
    TreeSet<String> missing = new TreeSet<>(code.keySet());
    missing.removeAll(described);
    TreeSet<String> extra = new TreeSet<>(described);
    extra.removeAll(code.keySet());
    if (!missing.isEmpty() || !extra.isEmpty()) {
      throw new AssertionError(
          "the OpenAPI document and the code differ: endpoints not described "
              + missing
              + ", described but not in the code "
              + extra);
    }
    List<String> faults = new java.util.ArrayList<>();
    code.forEach(
        (endpoint, method) -> {
          String[] mp = endpoint.split(" ", 2);
          Map<String, Object> op = operation(paths, mp[1], mp[0]);
          Object summary = op.get("summary");
          if (summary == null || summary.toString().isBlank()) {
            faults.add(endpoint + " has no summary (@Operation)");
          }
          Object responses = op.get("responses");
          if (!(responses instanceof Map<?, ?> r) || r.isEmpty()) {
            faults.add(endpoint + " lists no answers (@APIResponse)");
          }
          boolean needsToken =
              method.isAnnotationPresent(RolesAllowed.class)
                  || method.getDeclaringClass().isAnnotationPresent(RolesAllowed.class);
          boolean namesToken = String.valueOf(op.get("security")).contains(SECURITY_SCHEME);
          if (needsToken != namesToken) {
            faults.add(
                endpoint
                    + (needsToken
                        ? " needs the API token but does not name the scheme " + SECURITY_SCHEME
                        : " names the scheme " + SECURITY_SCHEME + " but needs no token"));
          }
        });
    if (!faults.isEmpty()) {
      throw new AssertionError(String.join("\n", faults));
    }
    return document;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> operation(
      Map<String, Map<String, Object>> paths, String path, String method) {
    return (Map<String, Object>) paths.get(path).get(method.toLowerCase());
  }

  private static final List<String> HTTP_METHODS =
      List.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

  /**
   * {@code "METHOD /path"} of every resource method of the root resources under {@code classes},
   * path templates as OpenAPI writes them ({@code {name}}, without a regular expression).
   */
  static SortedMap<String, Method> endpoints(java.nio.file.Path classes) {
    SortedMap<String, Method> out = new TreeMap<>();
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    for (String name : resourceClassNames(classes)) {
      Class<?> type;
      try {
        type = Class.forName(name, false, loader);
      } catch (ClassNotFoundException e) {
        throw new AssertionError("cannot load " + name, e);
      }
      Path root = type.getAnnotation(Path.class);
      if (root == null) {
        continue;
      }
      for (Method m : type.getMethods()) {
        String http = httpMethod(m);
        if (http != null) {
          Path sub = m.getAnnotation(Path.class);
          out.put(http + " " + join(root.value(), sub == null ? "" : sub.value()), m);
        }
      }
    }
    return out;
  }

  private static String httpMethod(Method m) {
    for (Annotation a : m.getAnnotations()) {
      HttpMethod http = a.annotationType().getAnnotation(HttpMethod.class);
      if (http != null) {
        return http.value();
      }
    }
    return null;
  }

  static String join(String root, String sub) {
    String path = ("/" + root + "/" + sub).replaceAll("/+", "/");
    path = path.replaceAll("\\{\\s*([^}:\\s]+)\\s*:[^}]*}", "{$1}");
    return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }

  /** Classes whose bytes name {@code jakarta.ws.rs.Path}, without loading the others. */
  private static List<String> resourceClassNames(java.nio.file.Path classes) {
    byte[] marker = "jakarta/ws/rs/Path".getBytes(StandardCharsets.US_ASCII);
    try (Stream<java.nio.file.Path> files = Files.walk(classes)) {
      return files
          .filter(f -> f.toString().endsWith(".class"))
          .filter(f -> contains(read(f), marker))
          .map(
              f ->
                  classes
                      .relativize(f)
                      .toString()
                      .replace(java.io.File.separatorChar, '.')
                      .replaceAll("\\.class$", ""))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] read(java.nio.file.Path f) {
    try {
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean contains(byte[] bytes, byte[] marker) {
    outer:
    for (int i = 0; i + marker.length <= bytes.length; i++) {
      for (int j = 0; j < marker.length; j++) {
        if (bytes[i + j] != marker[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
