package lenet.e2e.deploy;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.ConfigMappingInterface.Property;
import io.smallrye.config.ConfigMappings;
import io.smallrye.config.ConfigMappings.ConfigClass;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import lenet.contract.topics.Topic;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.jandex.AnnotationInstance;
import org.jboss.jandex.AnnotationTarget;
import org.jboss.jandex.AnnotationValue;
import org.jboss.jandex.DotName;
import org.jboss.jandex.FieldInfo;
import org.jboss.jandex.Index;
import org.jboss.jandex.Indexer;
import org.jboss.jandex.MethodInfo;
import org.jboss.jandex.MethodParameterInfo;

/**
 * Every setting one service reads and the value it takes when nothing sets it, read from the
 * service's own code: its {@code @ConfigMapping} interfaces ({@code @WithDefault}, through
 * SmallRye's own reading of them) and {@code @ConfigProperty} injection points, found by indexing
 * its classes with Jandex; its {@code application.properties} and the shared {@code
 * microprofile-config.properties} of service-common (which win over those defaults, as in Quarkus);
 * the topic names of {@link Topic}; and every Kafka client setting under {@code kafka.} with
 * Kafka's own default (Quarkus hands {@code kafka.*} to every client as it is).
 */
public final class ServiceSettings {

  /**
   * One setting: its key, its default (null: none), the Java type the service converts to, and
   * where the code declares it (empty for a key that only a properties file names).
   */
  public record Setting(
      String key, String defaultValue, Class<?> type, Optional<Declaration> declaration) {

    /** The environment variable SmallRye maps to this key (non-alphanumerics to _, upper case). */
    public String envName() {
      return envName(key);
    }

    static String envName(String key) {
      return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    /** The same setting with another default, as a later configuration source gives it. */
    Setting withDefault(String value) {
      return new Setting(key, value, type, declaration);
    }
  }

  /** Where the code declares a setting: what documents it. */
  public sealed interface Declaration {

    /** An accessor of a {@code @ConfigMapping} interface. */
    record Accessor(Method method) implements Declaration {}

    /**
     * A {@code @ConfigProperty} injection point in class {@code className} (binary name): parameter
     * {@code position} of {@code parameterCount} of method {@code member} ({@code <init>}: a
     * constructor), or field {@code member} ({@code position} -1). Named, not loaded: a service's
     * beans need its libraries, which this module does not have.
     */
    record Injected(String className, String member, int position, int parameterCount)
        implements Declaration {}

    /** The name of a topic ({@link Topic#configKey()}). */
    record TopicName(Topic topic) implements Declaration {}

    /** The partition count of a topic ({@link Topic#partitionsKey()}). */
    record TopicPartitions(Topic topic) implements Declaration {}

    /** A {@code ${key:default}} expression in a properties file: a key read through another one. */
    record Expression(String file) implements Declaration {}
  }

  private static final String SHARED_CODE = "lenet/service/security/ApiSecurityConfig.class";
  private static final DotName CONFIG_MAPPING = DotName.createSimple(ConfigMapping.class);
  private static final DotName CONFIG_PROPERTY = DotName.createSimple(ConfigProperty.class);
  private static final SmallRyeConfig CONVERTERS = new SmallRyeConfigBuilder().build();
  private static final Pattern EXPRESSION = Pattern.compile("\\$\\{([^:}]+):([^}]*)}");

  private final Map<String, Setting> byKey;
  private final Map<String, Setting> byEnvName;

  /** {@code byKey}: lowest precedence first, so a later key wins an environment name. */
  private ServiceSettings(Map<String, Setting> byKey) {
    this.byKey = Collections.unmodifiableMap(new TreeMap<>(byKey));
    Map<String, Setting> env = new TreeMap<>();
    byKey.values().forEach(s -> env.put(s.envName(), s));
    this.byEnvName = Collections.unmodifiableMap(env);
  }

  /** Every setting the service reads, by key. */
  public Map<String, Setting> byKey() {
    return byKey;
  }

  /** The setting an environment variable of this name sets, if the service reads one. */
  Optional<Setting> byEnvName(String envName) {
    return Optional.ofNullable(byEnvName.get(envName));
  }

  /**
   * Every Quarkus service on the class path (each jar or class folder holding an {@code
   * application.properties} that names a {@code quarkus.application.name}), by that name.
   */
  public static Map<String, ServiceSettings> onClassPath() {
    List<FileSystem> jars = new ArrayList<>();
    try {
      ClassLoader loader = ServiceSettings.class.getClassLoader();
      Path shared = codeRoot(loader.getResource(SHARED_CODE), SHARED_CODE, jars);
      Map<String, ServiceSettings> services = new TreeMap<>();
      for (URL url : Collections.list(loader.getResources("application.properties"))) {
        Properties own = load(url);
        String name = own.getProperty("quarkus.application.name");
        if (name != null) {
          Path code = codeRoot(url, "application.properties", jars);
          services.put(name, read(code, shared, own));
        }
      }
      return services;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (FileSystem jar : jars) {
        try {
          jar.close();
        } catch (IOException e) {
          // read-only and read in full already
        }
      }
    }
  }

  private static ServiceSettings read(Path code, Path shared, Properties own) throws IOException {
    // Lowest precedence first: each later source overrides the defaults of the earlier ones.
    Map<String, Setting> byKey = new LinkedHashMap<>();
    kafkaClientDefaults()
        .forEach((k, v) -> byKey.put(k, new Setting(k, v, null, Optional.empty())));
    for (Topic t : Topic.values()) {
      byKey.put(
          t.configKey(),
          new Setting(
              t.configKey(),
              t.defaultName(),
              String.class,
              Optional.of(new Declaration.TopicName(t))));
      t.partitionsKey()
          .ifPresent(
              k ->
                  byKey.put(
                      k,
                      new Setting(
                          k,
                          String.valueOf(t.partitions()),
                          Integer.class,
                          Optional.of(new Declaration.TopicPartitions(t)))));
    }
    Index index = index(code, shared);
    for (AnnotationInstance mapping : index.getAnnotations(CONFIG_MAPPING)) {
      Class<?> type = loadClass(mapping.target().asClass().name().toString());
      for (Map.Entry<String, Property> p :
          ConfigMappings.getProperties(ConfigClass.configClass(type)).entrySet()) {
        if (!p.getKey().contains("*")) {
          Property property = p.getValue();
          byKey.put(
              p.getKey(),
              new Setting(
                  p.getKey(),
                  property.hasDefaultValue() ? property.getDefaultValue() : null,
                  valueType(property),
                  Optional.of(new Declaration.Accessor(property.getMethod()))));
        }
      }
    }
    for (AnnotationInstance injected : index.getAnnotations(CONFIG_PROPERTY)) {
      String key = injected.value("name").asString();
      AnnotationValue dflt = injected.value("defaultValue");
      String value =
          dflt == null || ConfigProperty.UNCONFIGURED_VALUE.equals(dflt.asString())
              ? null
              : dflt.asString();
      Setting known = byKey.get(key);
      byKey.put(
          key,
          new Setting(
              key,
              value,
              known == null ? null : known.type(),
              Optional.of(injected(injected.target()))));
    }
    Properties sharedProperties = new Properties();
    try (InputStream in =
        Files.newInputStream(shared.resolve("META-INF/microprofile-config.properties"))) {
      sharedProperties.load(in);
    }
    Map<String, Properties> files = new LinkedHashMap<>();
    files.put("service-common's META-INF/microprofile-config.properties", sharedProperties);
    files.put("application.properties", own);
    for (Map.Entry<String, Properties> file : files.entrySet()) {
      Properties props = file.getValue();
      for (String key : props.stringPropertyNames()) {
        if (!key.startsWith("%")) {
          Setting known = byKey.get(key);
          byKey.put(
              key,
              known == null
                  ? new Setting(key, props.getProperty(key), null, Optional.empty())
                  : known.withDefault(props.getProperty(key)));
        }
      }
      // ${key:default} in a value: the service reads key too, with that default.
      for (String key : props.stringPropertyNames()) {
        Matcher m = EXPRESSION.matcher(props.getProperty(key));
        while (!key.startsWith("%") && m.find()) {
          byKey.putIfAbsent(
              m.group(1),
              new Setting(
                  m.group(1),
                  m.group(2),
                  null,
                  Optional.of(new Declaration.Expression(file.getKey()))));
        }
      }
    }
    return new ServiceSettings(byKey);
  }

  /**
   * Whether {@code value} is what the service takes by default: equal once converted to the
   * setting's type where SmallRye converts both (enums by name, numbers by value), else equal as
   * text. An empty value is the same as none.
   */
  static boolean isDefault(Setting setting, String value) {
    if (value.isEmpty() || setting.defaultValue() == null) {
      return value.isEmpty() && setting.defaultValue() == null;
    }
    if (setting.type() != null) {
      try {
        return convert(value, setting.type())
            .equals(convert(setting.defaultValue(), setting.type()));
      } catch (RuntimeException e) {
        // no converter here for this type (Quarkus's own, e.g. Duration "10s"): compare the text
      }
    }
    return value.equals(setting.defaultValue());
  }

  /**
   * Why the service would refuse {@code value} at start, for the types whose values the code lists
   * or parses by itself: an enum (its constants, as SmallRye names them), a number or a boolean.
   * Empty when it is valid or the type is not one of those.
   */
  static Optional<String> invalid(Setting setting, String value) {
    Class<?> type = setting.type();
    if (type == null || value.isEmpty()) {
      return Optional.empty();
    }
    boolean checked = type.isEnum() || Number.class.isAssignableFrom(type) || type == Boolean.class;
    if (!checked) {
      return Optional.empty();
    }
    try {
      convert(value, type);
      return Optional.empty();
    } catch (RuntimeException e) {
      if (type.isEnum()) {
        String allowed =
            Arrays.stream(type.getEnumConstants())
                .map(c -> ((Enum<?>) c).name().toLowerCase(Locale.ROOT).replace('_', '-'))
                .collect(Collectors.joining(", "));
        return Optional.of("not one of " + allowed + " (" + type.getName() + ")");
      }
      return Optional.of("not a valid " + type.getSimpleName());
    }
  }

  /**
   * {@code value} as the service receives it: converted by SmallRye's converter for {@code type}.
   */
  private static Object convert(String value, Class<?> type) {
    return CONVERTERS.requireConverter(type).convert(value);
  }

  private static Class<?> valueType(Property property) {
    if (property.isPrimitive()) {
      return property.asPrimitive().getBoxType();
    }
    if (property.isOptional()) {
      property = property.asOptional().getNestedProperty();
    }
    if (property.isCollection()) {
      property = property.asCollection().getElement();
    }
    return property.isLeaf() ? property.asLeaf().getValueRawType() : null;
  }

  /**
   * Every producer, consumer and admin client setting as {@code kafka.<name>}, with its default.
   */
  private static Map<String, String> kafkaClientDefaults() {
    Map<String, String> defaults = new TreeMap<>();
    for (ConfigDef def :
        List.of(
            ProducerConfig.configDef(),
            ConsumerConfig.configDef(),
            AdminClientConfig.configDef())) {
      for (ConfigDef.ConfigKey key : def.configKeys().values()) {
        Object value = key.hasDefault() ? key.defaultValue : null;
        defaults.putIfAbsent("kafka." + key.name, value == null ? null : kafkaText(value));
      }
    }
    return defaults;
  }

  private static String kafkaText(Object value) {
    if (value instanceof List<?> list) {
      return list.stream().map(ServiceSettings::kafkaText).collect(Collectors.joining(","));
    }
    return value instanceof Class<?> c ? c.getName() : String.valueOf(value);
  }

  private static Index index(Path... roots) throws IOException {
    Indexer indexer = new Indexer();
    for (Path root : roots) {
      try (Stream<Path> files = Files.walk(root)) {
        for (Path f :
            (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
          try (InputStream in = Files.newInputStream(f)) {
            indexer.index(in);
          }
        }
      }
    }
    return indexer.complete();
  }

  /** A Jandex injection point, by name. */
  private static Declaration.Injected injected(AnnotationTarget target) {
    if (target.kind() == AnnotationTarget.Kind.FIELD) {
      FieldInfo f = target.asField();
      return new Declaration.Injected(f.declaringClass().name().toString(), f.name(), -1, 0);
    }
    MethodParameterInfo p = target.asMethodParameter();
    MethodInfo m = p.method();
    return new Declaration.Injected(
        m.declaringClass().name().toString(), m.name(), p.position(), m.parametersCount());
  }

  private static Class<?> loadClass(String name) {
    try {
      return Class.forName(name, false, ServiceSettings.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(name + " is indexed but cannot be loaded", e);
    }
  }

  private static Properties load(URL url) throws IOException {
    Properties p = new Properties();
    try (InputStream in = url.openStream()) {
      p.load(in);
    }
    return p;
  }

  /**
   * The root of the jar or class folder that holds {@code resource} (found at {@code url}); a jar
   * is opened as a file system and added to {@code opened}.
   */
  private static Path codeRoot(URL url, String resource, List<FileSystem> opened)
      throws IOException {
    if (url == null) {
      throw new IllegalStateException(resource + " is not on the test class path");
    }
    try {
      if ("jar".equals(url.getProtocol())) {
        Path jar = Path.of(((JarURLConnection) url.openConnection()).getJarFileURL().toURI());
        FileSystem fs = FileSystems.newFileSystem(jar);
        opened.add(fs);
        return fs.getPath("/");
      }
      Path file = Path.of(url.toURI());
      for (String ignored : resource.split("/")) {
        file = file.getParent();
      }
      return file;
    } catch (URISyntaxException e) {
      throw new IllegalStateException(url.toString(), e);
    }
  }
}
