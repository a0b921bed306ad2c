// Schema checks for rendered Kubernetes objects.
//  - Kubernetes built-ins and KEDA: the validators shipped in the npm packages kubernetes-models and
//    @kubernetes-models/keda (types, required fields, enums), plus an unknown-field check built from the same
//    packages' TypeScript declarations (the API server prunes or rejects unknown fields; a typo such as
//    `readinesProbe` would otherwise pass).
//  - Strimzi (kafka.strimzi.io/v1): no npm or Maven Central package ships its models or CRDs, so the fields this
//    project uses are described below by hand, from Strimzi's CRDs (unknown fields are errors here too).
import fs from "node:fs";
import path from "node:path";

// ---------------------------------------------------------------------------------------------------------------
// kubernetes-models
// ---------------------------------------------------------------------------------------------------------------

const MODEL_PACKAGES = {
  // apiVersion group -> npm package
  "": "kubernetes-models",
  apps: "kubernetes-models",
  autoscaling: "kubernetes-models",
  batch: "kubernetes-models",
  policy: "kubernetes-models",
  "networking.k8s.io": "kubernetes-models",
  "rbac.authorization.k8s.io": "kubernetes-models",
  "keda.sh": "@kubernetes-models/keda",
};

function packageDir(pkg) {
  // The packages export no package.json; find the directory through node_modules lookup from here.
  let dir = path.dirname(new URL(import.meta.url).pathname);
  for (;;) {
    const candidate = path.join(dir, "node_modules", pkg);
    if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`npm package ${pkg} not installed (run .ci/check-deploy.sh)`);
    dir = up;
  }
}

export async function loadModel(apiVersion, kind) {
  const [g, v] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const pkg = MODEL_PACKAGES[g];
  if (!pkg) return null;
  const sub = g === "" ? `v1/${kind}` : pkg === "kubernetes-models" ? `${g}/${v}/${kind}` : `${g}/${v}/${kind}`;
  const file = path.join(packageDir(pkg), `${sub}.js`);
  if (!fs.existsSync(file)) return null;
  const mod = await import(`${pkg}/${sub}`);
  return { Model: mod[kind], dts: file.replace(/\.js$/, ".d.ts") };
}

// --- a small reader for the declarations: `export interface IX { "field"?: TYPE; ... }` -----------------------

const typeIndex = new Map(); // canonical type name -> parsed type
const fileCache = new Map(); // d.ts file -> { local: Map(name->type), aliases: Map(canonical->local), imports }

function tokenize(src) {
  const tokens = [];
  const re = /\s+|\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_$][\w$]*|-?\d+(?:\.\d+)?|[{}()<>\[\];:,|?&=.]/y;
  let m;
  while (re.lastIndex < src.length) {
    const start = re.lastIndex;
    m = re.exec(src);
    if (!m) throw new Error(`cannot tokenize declarations at ${src.slice(start, start + 40)}`);
    const t = m[0];
    if (/^\s/.test(t) || t.startsWith("/*") || t.startsWith("//")) continue;
    tokens.push(t);
  }
  return tokens;
}

function parseType(tk, i) {
  // union of primaries
  const members = [];
  let r = parsePrimary(tk, i);
  members.push(r.type);
  i = r.i;
  while (tk[i] === "|" || tk[i] === "&") {
    r = parsePrimary(tk, i + 1);
    members.push(r.type);
    i = r.i;
  }
  return { type: members.length === 1 ? members[0] : { t: "union", of: members }, i };
}

function parsePrimary(tk, i) {
  let type;
  const tok = tk[i];
  if (tok === "Array" && tk[i + 1] === "<") {
    const r = parseType(tk, i + 2);
    if (tk[r.i] !== ">") throw new Error("expected >");
    type = { t: "array", of: r.type };
    i = r.i + 1;
  } else if (tok === "{") {
    if (tk[i + 1] === "[") {
      // { [key: string]: T; }
      let j = i + 1;
      while (tk[j] !== "]") j++;
      if (tk[j + 1] !== ":") throw new Error("expected : in index signature");
      const r = parseType(tk, j + 2);
      let k = r.i;
      if (tk[k] === ";" || tk[k] === ",") k++;
      if (tk[k] !== "}") throw new Error("expected } after index signature");
      type = { t: "map", of: r.type };
      i = k + 1;
    } else {
      const r = parseFields(tk, i + 1);
      type = { t: "obj", fields: r.fields };
      i = r.i + 1;
    }
  } else if (tok === "(") {
    const r = parseType(tk, i + 1);
    type = r.type;
    i = r.i + 1;
  } else if (/^["'-\d]/.test(tok)) {
    type = { t: "prim" };
    i++;
  } else if (/^[A-Za-z_$]/.test(tok)) {
    i++;
    // qualified or indexed access: X["y"], import("...").X
    if (tok === "import" && tk[i] === "(") {
      while (tk[i] !== ")") i++;
      i++;
      while (tk[i] === ".") i += 2;
      type = { t: "prim" };
    } else {
      let name = tok;
      while (tk[i] === ".") {
        name += "." + tk[i + 1];
        i += 2;
      }
      if (tk[i] === "<") {
        // generic other than Array: skip its arguments
        let depth = 0;
        do {
          if (tk[i] === "<") depth++;
          if (tk[i] === ">") depth--;
          i++;
        } while (depth > 0);
        type = { t: "prim" };
      } else {
        type = /^(string|number|boolean|any|unknown|null|undefined|object|never)$/.test(name)
          ? { t: "prim" }
          : { t: "ref", name };
      }
    }
  } else {
    throw new Error(`unexpected token ${tok}`);
  }
  while (tk[i] === "[" && tk[i + 1] === "]") {
    type = { t: "array", of: type };
    i += 2;
  }
  while (tk[i] === "[" && tk[i + 2] === "]") {
    // indexed access type (IDeployment["apiVersion"]): a literal here
    type = { t: "prim" };
    i += 3;
  }
  return { type, i };
}

function parseFields(tk, i) {
  const fields = {};
  while (tk[i] !== "}") {
    let name = tk[i];
    if (name === "readonly") name = tk[++i];
    name = name.replace(/^["']|["']$/g, "");
    i++;
    const optional = tk[i] === "?";
    if (optional) i++;
    if (tk[i] !== ":") throw new Error(`expected : after field ${name}, got ${tk[i]}`);
    const r = parseType(tk, i + 1);
    fields[name] = { type: r.type, optional };
    i = r.i;
    if (tk[i] === ";" || tk[i] === ",") i++;
  }
  return { fields, i };
}

function loadDts(file) {
  if (fileCache.has(file)) return fileCache.get(file);
  const src = fs.readFileSync(file, "utf8");
  const tk = tokenize(src);
  const info = { local: new Map(), aliases: new Map(), imports: new Map(), file };
  for (let i = 0; i < tk.length; i++) {
    if (tk[i] === "import" && tk[i + 1] === "{") {
      let j = i + 2;
      const names = [];
      while (tk[j] !== "}") {
        if (tk[j] !== ",") names.push(tk[j]);
        j++;
      }
      const from = tk[j + 2]?.replace(/^["']|["']$/g, "");
      for (const n of names) info.imports.set(n, from);
      i = j;
    } else if (tk[i] === "export" && tk[i + 1] === "interface") {
      const name = tk[i + 2];
      let j = i + 3;
      while (tk[j] !== "{") j++;
      const r = parseFields(tk, j + 1);
      info.local.set(name, { t: "obj", fields: r.fields });
      i = r.i;
    } else if (tk[i] === "export" && tk[i + 1] === "type" && tk[i + 2] === "{") {
      let j = i + 3;
      while (tk[j] !== "}") {
        if (tk[j + 1] === "as") {
          info.aliases.set(tk[j + 2], tk[j]);
          j += 3;
        } else j++;
        if (tk[j] === ",") j++;
      }
      i = j;
    } else if (tk[i] === "export" && tk[i + 1] === "type" && /^[A-Za-z]/.test(tk[i + 2]) && tk[i + 3] === "=") {
      const r = parseType(tk, i + 4);
      info.local.set(tk[i + 2], r.type);
      i = r.i;
    }
  }
  fileCache.set(file, info);
  return info;
}

function resolveModuleFile(spec, fromFile) {
  if (spec.startsWith(".")) return path.resolve(path.dirname(fromFile), spec.replace(/\.js$/, "") + ".d.ts");
  // bare specifier: package + subpath, declared as <pkg>/<subpath>.d.ts (packages publish their dist as root)
  const parts = spec.split("/");
  const pkg = spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  const sub = parts.slice(pkg.split("/").length).join("/");
  const dir = packageDir(pkg);
  for (const cand of [path.join(dir, sub + ".d.ts"), path.join(dir, sub, "index.d.ts"), path.join(dir, "dist", sub + ".d.ts")]) {
    if (fs.existsSync(cand)) return cand;
  }
  return null;
}

/** The declared type of name as seen from file (follows imports and export aliases). */
function lookupType(name, file) {
  const key = `${file}#${name}`;
  if (typeIndex.has(key)) return typeIndex.get(key);
  const info = loadDts(file);
  let found = null; // { type, file }: the declaration and the file it lives in (for its own imports)
  if (info.local.has(name)) found = { type: info.local.get(name), file };
  else if (info.aliases.has(name)) found = lookupType(info.aliases.get(name), file);
  else if (info.imports.has(name)) {
    const target = resolveModuleFile(info.imports.get(name), file);
    if (target) found = lookupType(name, target);
  }
  typeIndex.set(key, found);
  return found;
}

/** Unknown-field errors of value against the declared type (name) in file. */
export function unknownFields(value, rootName, file) {
  const errors = [];
  const root = lookupType(rootName, file);
  if (!root) return errors;
  walk(value, root.type, root.file, "", errors);
  return errors;
}

function walk(value, type, file, at, errors) {
  if (value === null || value === undefined || !type) return;
  switch (type.t) {
    case "ref": {
      const r = lookupType(type.name, file);
      if (r) walk(value, r.type, r.file, at, errors);
      return;
    }
    case "array":
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, type.of, file, `${at}/${i}`, errors));
      return;
    case "map":
      if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) walk(v, type.of, file, `${at}/${k}`, errors);
      }
      return;
    case "obj":
      if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) {
          if (!(k in type.fields)) errors.push(`${at}/${k}: unknown field`);
          else walk(v, type.fields[k].type, file, `${at}/${k}`, errors);
        }
      }
      return;
    case "union": {
      if (value && typeof value === "object") {
        const objs = type.of.filter((m) => m.t !== "prim");
        if (objs.length === 1) walk(value, objs[0], file, at, errors);
      }
      return;
    }
    default:
      return;
  }
}

/** Validate with kubernetes-models; returns a list of error strings, or null when no model is known. */
export async function validateBuiltin(obj) {
  const m = await loadModel(obj.apiVersion, obj.kind);
  if (!m || !m.Model) return null;
  const errors = [];
  try {
    new m.Model(obj).validate();
  } catch (e) {
    const list = e.errors ?? e.details ?? null;
    if (Array.isArray(list) && list.length) {
      for (const x of list) errors.push(`${x.instancePath || "/"} ${x.message}${x.params?.allowedValues ? " " + JSON.stringify(x.params.allowedValues) : ""}`);
    } else errors.push(String(e.message ?? e));
  }
  const localName = `I${obj.kind}`;
  errors.push(...unknownFields(obj, localName, m.dts));
  return errors;
}

// ---------------------------------------------------------------------------------------------------------------
// Strimzi, by hand (kafka.strimzi.io/v1)
// ---------------------------------------------------------------------------------------------------------------

const str = { type: "string" };
const bool = { type: "boolean" };
const int = (min, max) => ({ type: "integer", min, max });
const any = { type: "any" };
const strMap = { type: "map", values: str };
const quantity = { type: "quantity" };
const resources = {
  type: "object",
  props: { requests: { type: "map", values: quantity }, limits: { type: "map", values: quantity }, claims: any },
};
const jvmOptions = {
  type: "object",
  props: {
    "-Xms": { type: "string", pattern: /^[0-9]+[mMgG]?$/ },
    "-Xmx": { type: "string", pattern: /^[0-9]+[mMgG]?$/ },
    "-XX": strMap,
    gcLoggingEnabled: bool,
    javaSystemProperties: { type: "array", items: { type: "object", props: { name: str, value: str } } },
  },
};
const probe = {
  type: "object",
  props: { initialDelaySeconds: int(0), timeoutSeconds: int(1), periodSeconds: int(1), successThreshold: int(1), failureThreshold: int(1) },
};
const metadata = {
  type: "object",
  required: ["name"],
  props: {
    name: { type: "string", pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, maxLength: 253 },
    namespace: str,
    labels: strMap,
    annotations: strMap,
  },
};
const clusterLabelled = { ...metadata, requiredLabels: ["strimzi.io/cluster"] };
const volume = {
  type: "object",
  required: ["type"],
  props: {
    id: int(0),
    type: { type: "string", enum: ["ephemeral", "persistent-claim"] },
    size: { type: "string", pattern: /^[0-9.]+([KMGTPE]i?)?$/ },
    sizeLimit: str,
    class: str,
    deleteClaim: bool,
    selector: strMap,
    kraftMetadata: { type: "string", enum: ["shared"] },
    overrides: any,
  },
};
const storage = {
  type: "object",
  required: ["type"],
  props: {
    type: { type: "string", enum: ["ephemeral", "persistent-claim", "jbod"] },
    volumes: { type: "array", items: volume, minItems: 1 },
    size: volume.props.size,
    sizeLimit: str,
    class: str,
    deleteClaim: bool,
    selector: strMap,
    kraftMetadata: volume.props.kraftMetadata,
    id: int(0),
    overrides: any,
  },
};
const listener = {
  type: "object",
  required: ["name", "port", "type", "tls"],
  props: {
    name: { type: "string", pattern: /^[a-z0-9]{1,11}$/ },
    port: int(9092, 65535),
    type: { type: "string", enum: ["internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip"] },
    tls: bool,
    authentication: any,
    configuration: any,
    networkPolicyPeers: any,
  },
};
const operator = {
  type: "object",
  props: {
    watchedNamespace: str,
    image: str,
    reconciliationIntervalMs: int(0),
    reconciliationIntervalSeconds: int(0),
    resources,
    livenessProbe: probe,
    readinessProbe: probe,
    startupProbe: probe,
    logging: any,
    jvmOptions,
  },
};

export const STRIMZI = {
  KafkaNodePool: {
    type: "object",
    required: ["metadata", "spec"],
    props: {
      apiVersion: str,
      kind: str,
      metadata: clusterLabelled,
      spec: {
        type: "object",
        required: ["replicas", "roles", "storage"],
        props: {
          replicas: int(0),
          roles: { type: "array", items: { type: "string", enum: ["controller", "broker"] }, minItems: 1 },
          storage,
          resources,
          jvmOptions,
          template: any,
        },
      },
    },
  },
  Kafka: {
    type: "object",
    required: ["metadata", "spec"],
    props: {
      apiVersion: str,
      kind: str,
      metadata,
      spec: {
        type: "object",
        required: ["kafka"],
        props: {
          kafka: {
            type: "object",
            required: ["listeners"],
            props: {
              version: { type: "string", pattern: /^\d+\.\d+\.\d+$/ },
              metadataVersion: { type: "string", pattern: /^\d+\.\d+-IV\d+$/ },
              image: str,
              listeners: { type: "array", items: listener, minItems: 1 },
              config: { type: "map", values: { type: "scalar" } },
              authorization: any,
              rack: any,
              brokerRackInitImage: str,
              livenessProbe: probe,
              readinessProbe: probe,
              jvmOptions,
              jmxOptions: any,
              resources,
              metricsConfig: any,
              logging: any,
              template: any,
              tieredStorage: any,
              quotas: any,
            },
          },
          entityOperator: {
            type: "object",
            props: { topicOperator: operator, userOperator: operator, template: any },
          },
          clusterCa: any,
          clientsCa: any,
          cruiseControl: any,
          kafkaExporter: any,
          maintenanceTimeWindows: { type: "array", items: str },
        },
      },
    },
  },
  KafkaUser: {
    type: "object",
    required: ["metadata", "spec"],
    props: {
      apiVersion: str,
      kind: str,
      metadata: clusterLabelled,
      spec: {
        type: "object",
        props: {
          authentication: {
            type: "object",
            required: ["type"],
            props: { type: { type: "string", enum: ["tls", "tls-external", "scram-sha-512"] }, password: any },
          },
          authorization: {
            type: "object",
            required: ["type"],
            props: {
              type: { type: "string", enum: ["simple"] },
              acls: {
                type: "array",
                items: {
                  type: "object",
                  required: ["resource", "operations"],
                  props: {
                    resource: {
                      type: "object",
                      required: ["type"],
                      props: {
                        type: { type: "string", enum: ["topic", "group", "cluster", "transactionalId"] },
                        name: str,
                        patternType: { type: "string", enum: ["literal", "prefix"] },
                      },
                    },
                    operations: {
                      type: "array",
                      minItems: 1,
                      items: {
                        type: "string",
                        enum: ["Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction", "AlterConfigs", "DescribeConfigs", "IdempotentWrite", "All"],
                      },
                    },
                    host: str,
                    type: { type: "string", enum: ["allow", "deny"] },
                  },
                },
              },
            },
          },
          quotas: any,
          template: any,
        },
      },
    },
  },
  KafkaTopic: {
    type: "object",
    required: ["metadata", "spec"],
    props: {
      apiVersion: str,
      kind: str,
      metadata: clusterLabelled,
      spec: {
        type: "object",
        props: {
          topicName: { type: "string", pattern: /^[a-zA-Z0-9._-]{1,249}$/ },
          partitions: int(1),
          replicas: int(1, 32767),
          config: { type: "map", values: { type: "scalar" } },
        },
      },
    },
  },
};

const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/;

export function checkSchema(value, schema, at = "") {
  const errors = [];
  const here = at || "/";
  const t = schema.type;
  if (t === "any") return errors;
  if (value === undefined || value === null) return errors;
  switch (t) {
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return [`${here}: must be an object`];
      for (const r of schema.required ?? []) if (value[r] === undefined) errors.push(`${at}/${r}: required`);
      for (const [k, v] of Object.entries(value)) {
        const s = schema.props?.[k];
        if (!s) errors.push(`${at}/${k}: unknown field`);
        else errors.push(...checkSchema(v, s, `${at}/${k}`));
      }
      for (const l of schema.requiredLabels ?? []) {
        if (!value.labels?.[l]) errors.push(`${at}/labels/${l}: required label`);
      }
      break;
    }
    case "map":
      if (typeof value !== "object" || Array.isArray(value)) return [`${here}: must be a map`];
      for (const [k, v] of Object.entries(value)) errors.push(...checkSchema(v, schema.values, `${at}/${k}`));
      break;
    case "array":
      if (!Array.isArray(value)) return [`${here}: must be an array`];
      if (schema.minItems && value.length < schema.minItems) errors.push(`${here}: needs at least ${schema.minItems} item(s)`);
      value.forEach((v, i) => errors.push(...checkSchema(v, schema.items, `${at}/${i}`)));
      break;
    case "string":
      if (typeof value !== "string") return [`${here}: must be a string`];
      if (schema.enum && !schema.enum.includes(value)) errors.push(`${here}: must be one of ${schema.enum.join(", ")}`);
      if (schema.pattern && !schema.pattern.test(value)) errors.push(`${here}: '${value}' does not match ${schema.pattern}`);
      if (schema.maxLength && value.length > schema.maxLength) errors.push(`${here}: longer than ${schema.maxLength}`);
      break;
    case "integer":
      if (!Number.isInteger(value)) return [`${here}: must be an integer`];
      if (schema.min !== undefined && value < schema.min) errors.push(`${here}: must be >= ${schema.min}`);
      if (schema.max !== undefined && value > schema.max) errors.push(`${here}: must be <= ${schema.max}`);
      break;
    case "boolean":
      if (typeof value !== "boolean") errors.push(`${here}: must be a boolean`);
      break;
    case "scalar":
      if (!["string", "number", "boolean"].includes(typeof value)) errors.push(`${here}: must be a string, number or boolean`);
      break;
    case "quantity":
      if (!(Number.isInteger(value) || (typeof value === "string" && QUANTITY.test(value)))) {
        errors.push(`${here}: '${value}' is not a Kubernetes quantity`);
      }
      break;
    default:
      errors.push(`${here}: internal: unknown schema type ${t}`);
  }
  return errors;
}

export function validateStrimzi(obj) {
  if (obj.apiVersion !== "kafka.strimzi.io/v1") {
    return [`apiVersion ${obj.apiVersion}: use kafka.strimzi.io/v1 (Strimzi 1.0 serves only v1; 0.49+ serve it too)`];
  }
  const schema = STRIMZI[obj.kind];
  if (!schema) return [`kind ${obj.kind} of kafka.strimzi.io/v1 is not described in .ci/deploy-check/schema.mjs`];
  return checkSchema(obj, schema);
}

// re-exported for tests of this module
export const _internal = { tokenize, parseType };
