// What the deployment files must agree with, read from the repository itself so that the checks hold no list of
// their own: the root pom.xml (modules, the Kafka version, the Java release), each service module's
// application.properties (its HTTP port) and Dockerfile, docker-compose.yml (the images the repository builds) and
// deploy/README.md (the Secrets the operator creates by hand).
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

export const DOCKERFILE = "src/main/docker/Dockerfile.jvm";

/** A property of the root pom.xml's <properties>, e.g. kafka.version. */
export function pomProperty(root, name) {
  const pom = fs.readFileSync(path.join(root, "pom.xml"), "utf8");
  const props = /<properties>([\s\S]*?)<\/properties>/.exec(pom)?.[1] ?? "";
  const esc = name.replace(/\./g, "\\.");
  const v = new RegExp(`<${esc}>([^<]*)</${esc}>`).exec(props)?.[1]?.trim();
  if (!v) throw new Error(`pom.xml has no property ${name}`);
  return v;
}

/** The root pom.xml's modules whose application.properties sets quarkus.http.port: { module: port }. */
export function services(root) {
  const pom = fs.readFileSync(path.join(root, "pom.xml"), "utf8");
  const modules = [...pom.matchAll(/<module>([^<]+)<\/module>/g)].map((m) => m[1].trim());
  const out = {};
  for (const m of modules) {
    const f = path.join(root, m, "src/main/resources/application.properties");
    if (!fs.existsSync(f)) continue;
    const port = /^\s*quarkus\.http\.port\s*[=:]\s*(\d+)\s*$/m.exec(fs.readFileSync(f, "utf8"))?.[1];
    if (port) out[m] = Number(port);
  }
  if (!Object.keys(out).length) throw new Error("no module of pom.xml sets quarkus.http.port in its application.properties");
  return out;
}

/** `docker-compose.yml` as docker-compose resolved it (FILE), or parsed here with ${VAR:-default} taken as default. */
export function loadCompose(resolved, ...sources) {
  if (resolved && fs.existsSync(resolved)) return YAML.parse(fs.readFileSync(resolved, "utf8"), { merge: true });
  const interpolate = (text) => text.replace(/\$\{(\w+)(:?-([^}]*))?\}/g, (_m, v, _d, def) => process.env[v] ?? def ?? "");
  const docs = sources.map((f) => YAML.parse(interpolate(fs.readFileSync(f, "utf8")), { merge: true }) ?? {});
  // docker-compose's override rule for what these files use: maps merge, everything else is replaced.
  const merge = (a, b) => {
    if (!isObj(a) || !isObj(b)) return b === undefined ? a : b;
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
    return out;
  };
  return docs.reduce(merge, {});
}

export const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** An image reference split into name and tag (tag undefined when none is given). */
export function splitImage(ref) {
  const s = String(ref ?? "");
  const at = s.indexOf("@");
  const base = at >= 0 ? s.slice(0, at) : s;
  const colon = base.lastIndexOf(":");
  if (colon > base.lastIndexOf("/")) return { name: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { name: base, tag: at >= 0 ? s.slice(at + 1) : undefined };
}

/**
 * The images the repository builds: every compose service with a `build:` whose context is a service module,
 * as { name: { module, tag } }, from a resolved compose configuration.
 */
export function builtImages(root, compose, svcs) {
  const out = {};
  for (const s of Object.values(compose?.services ?? {})) {
    const ctx = typeof s.build === "string" ? s.build : s.build?.context;
    if (!ctx || !s.image) continue;
    const module = path.relative(root, path.resolve(root, ctx));
    if (!(module in svcs)) continue;
    const { name, tag } = splitImage(s.image);
    out[name] = { module, tag };
  }
  return out;
}

/**
 * The Secrets deploy/README.md tells the operator to create (`kubectl -n NS create secret generic NAME
 * --from-literal=KEY=... --from-file=[KEY=]PATH`): { name: Set(keys) }.
 */
export function readmeSecrets(root) {
  const f = path.join(root, "deploy/README.md");
  if (!fs.existsSync(f)) return {};
  const text = fs.readFileSync(f, "utf8").replace(/\\\n\s*/g, " ");
  const out = {};
  for (const m of text.matchAll(/kubectl\s+(?:-n\s+\S+\s+)?create\s+secret\s+generic\s+([\w.-]+)([^\n]*)/g)) {
    const keys = new Set();
    for (const a of m[2].matchAll(/--from-(literal|file)=("[^"]*"|\S+)/g)) {
      const v = a[2];
      const eq = v.indexOf("=");
      if (a[1] === "literal") keys.add(v.slice(0, eq));
      else keys.add(eq >= 0 ? v.slice(0, eq) : path.basename(v));
    }
    out[m[1]] = keys;
  }
  return out;
}
