// kustomize-lite: renders the subset of kustomize that deploy/ uses, for machines without a kustomize binary
// (Debian bookworm's kubernetes-client is kubectl 1.20 with kustomize v2, which predates `patches:` and
// `components:`; npm and Maven Central serve no kustomize build).
//
// Supported: kind Kustomization / Component; fields namespace, resources (files and directories), components,
// patches (path or inline patch; strategic-merge patches, optional target kind/name/namespace), images
// (name, newName, newTag, digest). Anything else is an error, never silently ignored: check-deploy.sh compares
// this renderer's output with `kubectl kustomize` wherever a kustomize v4+ is installed, so the two cannot drift.
//
// Usage as a module: render(dir) -> array of objects. As a command: node kustomize-lite.mjs DIR  (prints YAML).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import YAML from "yaml";

const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
const SUPPORTED_FIELDS = new Set([
  "apiVersion",
  "kind",
  "namespace",
  "resources",
  "components",
  "patches",
  "images",
]);

// Kinds kustomize treats as cluster-scoped among those a project like this may use.
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "PersistentVolume",
  "StorageClass",
  "PriorityClass",
  "IngressClass",
  "RuntimeClass",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "APIService",
  "ClusterTriggerAuthentication",
]);

// Strategic-merge keys for lists of objects (Kubernetes' patchMergeKey), by field name.
const MERGE_KEYS = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  volumes: "name",
  env: "name",
  imagePullSecrets: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  hostAliases: "ip",
};

export class KustomizeError extends Error {}

function fail(msg) {
  throw new KustomizeError(msg);
}

export function parseDocs(file) {
  const text = fs.readFileSync(file, "utf8");
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true });
  const out = [];
  for (const d of docs) {
    if (d.errors.length) {
      fail(`${file}: YAML error: ${d.errors.map((e) => e.message).join("; ")}`);
    }
    const v = d.toJS({ maxAliasCount: 100 });
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

function kustomizationFile(dir) {
  for (const name of KUSTOMIZATION_FILES) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) return f;
  }
  return null;
}

function loadKustomization(dir) {
  const file = kustomizationFile(dir);
  if (!file) fail(`${dir}: no kustomization.yaml`);
  const docs = parseDocs(file);
  if (docs.length !== 1) fail(`${file}: expected one YAML document, found ${docs.length}`);
  const k = docs[0];
  for (const key of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(key)) fail(`${file}: field '${key}' is not supported by kustomize-lite`);
  }
  const kind = k.kind ?? "Kustomization";
  if (kind !== "Kustomization" && kind !== "Component") fail(`${file}: unknown kind ${kind}`);
  return { file, k, kind };
}

function clone(v) {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

function isObj(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function group(apiVersion) {
  const s = String(apiVersion ?? "");
  return s.includes("/") ? s.split("/")[0] : "";
}

function id(o) {
  return `${o.kind}/${o.metadata?.namespace ?? "~"}/${o.metadata?.name}`;
}

/** Strategic merge of patch into target (a fresh object is returned). */
export function strategicMerge(target, patch, field = "") {
  if (isObj(patch)) {
    if (patch.$patch === "delete") return undefined;
    if (patch.$patch === "replace") {
      const p = clone(patch);
      delete p.$patch;
      return p;
    }
    const out = isObj(target) ? clone(target) : {};
    for (const [k, v] of Object.entries(patch)) {
      if (k === "$patch") continue;
      if (v === null) {
        delete out[k];
        continue;
      }
      const merged = strategicMerge(out[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field] ?? (field === "ports" ? portKey(target, patch) : null);
    if (!key || !Array.isArray(target) || !patch.every(isObj)) return clone(patch);
    const out = clone(target);
    for (const item of patch) {
      const idx = out.findIndex((t) => isObj(t) && t[key] === item[key]);
      if (item.$patch === "delete") {
        if (idx >= 0) out.splice(idx, 1);
      } else if (idx >= 0) {
        out[idx] = strategicMerge(out[idx], item, "");
      } else {
        const fresh = clone(item);
        delete fresh.$patch;
        out.push(fresh);
      }
    }
    return out;
  }
  return patch;
}

function portKey(target, patch) {
  const items = [...(Array.isArray(target) ? target : []), ...patch].filter(isObj);
  if (items.some((p) => "containerPort" in p)) return "containerPort";
  if (items.some((p) => "port" in p)) return "port";
  return null;
}

function matchesTarget(o, t) {
  if (t.kind && o.kind !== t.kind) return false;
  if (t.name && o.metadata?.name !== t.name) return false;
  if (t.namespace && o.metadata?.namespace !== t.namespace) return false;
  if (t.group !== undefined && group(o.apiVersion) !== t.group) return false;
  if (t.version && !String(o.apiVersion).endsWith(t.version)) return false;
  for (const key of Object.keys(t)) {
    if (!["kind", "name", "namespace", "group", "version"].includes(key)) {
      fail(`patch target field '${key}' is not supported by kustomize-lite`);
    }
  }
  return true;
}

function applyPatches(objs, patches, dir, file) {
  for (const p of patches ?? []) {
    for (const key of Object.keys(p)) {
      if (!["path", "patch", "target"].includes(key)) fail(`${file}: patch field '${key}' not supported`);
    }
    let docs;
    if (p.path) {
      const f = path.resolve(dir, p.path);
      if (!fs.existsSync(f)) fail(`${file}: patch file ${p.path} does not exist`);
      docs = parseDocs(f);
    } else if (typeof p.patch === "string") {
      docs = YAML.parseAllDocuments(p.patch).map((d) => d.toJS()).filter((d) => d != null);
    } else {
      fail(`${file}: a patch needs 'path' or 'patch'`);
    }
    for (const doc of docs) {
      if (Array.isArray(doc)) fail(`${file}: JSON6902 patches are not supported by kustomize-lite`);
      let hits = 0;
      for (let i = 0; i < objs.length; i++) {
        const o = objs[i];
        const ok = p.target
          ? matchesTarget(o, p.target)
          : o.kind === doc.kind &&
            group(o.apiVersion) === group(doc.apiVersion) &&
            o.metadata?.name === doc.metadata?.name &&
            (!doc.metadata?.namespace || doc.metadata.namespace === o.metadata?.namespace);
        if (!ok) continue;
        const patchDoc = clone(doc);
        if (p.target) {
          // A targeted patch's own name/kind only identify it; they do not rename the target.
          delete patchDoc.kind;
          delete patchDoc.apiVersion;
          if (patchDoc.metadata) {
            delete patchDoc.metadata.name;
            delete patchDoc.metadata.namespace;
          }
        }
        objs[i] = strategicMerge(o, patchDoc);
        hits++;
      }
      if (hits === 0) {
        fail(`${file}: patch ${p.path ?? "(inline)"} matches no resource (${doc.kind}/${doc.metadata?.name})`);
      }
    }
  }
}

function splitImage(image) {
  let name = image;
  let tag;
  let digest;
  const at = name.indexOf("@");
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
  }
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  if (colon > slash) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  return { name, tag, digest };
}

function podSpecs(o) {
  const specs = [];
  if (o.kind === "Pod") specs.push(o.spec);
  if (o.spec?.template?.spec) specs.push(o.spec.template.spec);
  if (o.spec?.jobTemplate?.spec?.template?.spec) specs.push(o.spec.jobTemplate.spec.template.spec);
  return specs.filter(Boolean);
}

function applyImages(objs, images, file) {
  for (const img of images ?? []) {
    for (const key of Object.keys(img)) {
      if (!["name", "newName", "newTag", "digest"].includes(key)) fail(`${file}: images field '${key}' not supported`);
    }
    for (const o of objs) {
      for (const spec of podSpecs(o)) {
        for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
          if (typeof c.image !== "string") continue;
          const cur = splitImage(c.image);
          if (cur.name !== img.name) continue;
          const name = img.newName ?? cur.name;
          if (img.digest) c.image = `${name}@${img.digest}`;
          else if (img.newTag !== undefined) c.image = `${name}:${img.newTag}`;
          else c.image = `${name}${cur.tag ? ":" + cur.tag : ""}${cur.digest ? "@" + cur.digest : ""}`;
        }
      }
    }
  }
}

function build(dir, expectKind, stack = []) {
  const abs = path.resolve(dir);
  if (stack.includes(abs)) fail(`cycle: ${[...stack, abs].join(" -> ")}`);
  const { file, k, kind } = loadKustomization(abs);
  if (expectKind && kind !== expectKind) fail(`${file}: expected kind ${expectKind}, found ${kind}`);
  let objs = [];
  for (const r of k.resources ?? []) {
    const target = path.resolve(abs, r);
    if (!fs.existsSync(target)) fail(`${file}: resource ${r} does not exist`);
    if (fs.statSync(target).isDirectory()) objs.push(...build(target, "Kustomization", [...stack, abs]));
    else objs.push(...parseDocs(target));
  }
  objs = objs.map(clone);
  for (const c of k.components ?? []) {
    const target = path.resolve(abs, c);
    if (!fs.existsSync(target) || !fs.statSync(target).isDirectory()) fail(`${file}: component ${c} is not a directory`);
    const comp = loadKustomization(target);
    if (comp.kind !== "Component") fail(`${comp.file}: a component must be kind Component`);
    for (const r of comp.k.resources ?? []) {
      const t = path.resolve(target, r);
      if (!fs.existsSync(t)) fail(`${comp.file}: resource ${r} does not exist`);
      objs.push(...(fs.statSync(t).isDirectory() ? build(t, "Kustomization", [...stack, abs]) : parseDocs(t)));
    }
    if (comp.k.components) fail(`${comp.file}: nested components are not supported by kustomize-lite`);
    applyPatches(objs, comp.k.patches, target, comp.file);
    applyImages(objs, comp.k.images, comp.file);
    if (comp.k.namespace) setNamespace(objs, comp.k.namespace);
  }
  applyPatches(objs, k.patches, abs, file);
  applyImages(objs, k.images, file);
  if (k.namespace) setNamespace(objs, k.namespace);
  const seen = new Set();
  for (const o of objs) {
    if (!isObj(o) || !o.kind || !o.apiVersion || !o.metadata?.name) {
      fail(`${file}: a resource lacks apiVersion, kind or metadata.name: ${JSON.stringify(o).slice(0, 120)}`);
    }
    const key = `${group(o.apiVersion)}/${id(o)}`;
    if (seen.has(key)) fail(`${file}: duplicate resource ${id(o)}`);
    seen.add(key);
  }
  return objs;
}

function setNamespace(objs, ns) {
  for (const o of objs) {
    if (CLUSTER_SCOPED.has(o.kind)) continue;
    o.metadata = { ...o.metadata, namespace: ns };
  }
}

export function render(dir) {
  return build(dir, null);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: node kustomize-lite.mjs DIR");
    process.exit(2);
  }
  try {
    const objs = render(dir);
    process.stdout.write(objs.map((o) => YAML.stringify(o)).join("---\n"));
  } catch (e) {
    console.error(e instanceof KustomizeError ? `kustomize-lite: ${e.message}` : e);
    process.exit(1);
  }
}
