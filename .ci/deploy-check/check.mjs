// Offline checks of the deployment files: docker-compose.yml (+ docker-compose.gpu.yml), the Dockerfiles, and the
// kustomize tree under deploy/. Called by .ci/check-deploy.sh, which installs the npm packages and runs
// `docker-compose config` first.
//
//   node .ci/deploy-check/check.mjs --root DIR [--compose-config FILE] [--compose-gpu-config FILE]
//                                   [--kustomize "CMD ARGS"]   (a kustomize v4+ command; `kubectl kustomize` or
//                                                               `kustomize build`; absent: kustomize-lite only)
//
// Prints one line per check and ends with "check-deploy: N passed, M failed"; exits 1 on any failure.
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import YAML from "yaml";
import { render, parseDocs, KustomizeError } from "./kustomize-lite.mjs";
import { validateBuiltin, validateStrimzi } from "./schema.mjs";

// ---------------------------------------------------------------------------------------------------------------
// What the deployment must agree with (the services' contract; pipeline-contract's Topic enum is cross-checked).
// ---------------------------------------------------------------------------------------------------------------
const LARGE = "4194304";
// The topic table: deploy/base/topics.yaml, rendered from pipeline-contract's Topic (the one source; its
// TopicCopiesTest fails when the file differs). Every other copy (compose, rendered overlays) must match it in full.
const TOPICS_FILE = "deploy/base/topics.yaml";
// The deployments' cluster: three KRaft nodes, every partition on all three, two in sync for a write.
const BROKERS = 3;
const REPLICAS = 3;
const MIN_ISR = 2;
const SERVICES = {
  "ingest-service": { port: 8081, compose: "ingest" },
  "trainer-service": { port: 8082, compose: "trainer" },
  "inference-service": { port: 8080, compose: "inference" },
};
const NAMESPACE = "lenet";
const KAFKA_IMAGE = "apache/kafka:4.1.2";

// ---------------------------------------------------------------------------------------------------------------
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const ROOT = path.resolve(opt("--root") ?? ".");
const KUSTOMIZE = opt("--kustomize");

let passed = 0;
let failed = 0;
function check(name, fn) {
  let errors;
  try {
    errors = fn() ?? [];
  } catch (e) {
    errors = [e instanceof KustomizeError ? e.message : e.stack ?? String(e)];
  }
  if (errors.length === 0) {
    passed++;
    console.log(`  ok    ${name}`);
  } else {
    failed++;
    console.log(`  FAIL  ${name}`);
    for (const e of errors.slice(0, 25)) console.log(`          - ${e}`);
    if (errors.length > 25) console.log(`          ... and ${errors.length - 25} more`);
  }
}
async function checkAsync(name, fn) {
  let errors;
  try {
    errors = (await fn()) ?? [];
  } catch (e) {
    errors = [e.stack ?? String(e)];
  }
  check(name, () => errors);
}

const rel = (p) => path.relative(ROOT, p) || ".";
const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const stable = (v) =>
  JSON.stringify(v, (_k, x) => (isObj(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
const idOf = (o) => `${o.kind}/${o.metadata?.namespace ? o.metadata.namespace + "/" : ""}${o.metadata?.name}`;
const byKind = (objs, kind) => objs.filter((o) => o.kind === kind);
const find = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata?.name === name);

function quantity(q) {
  if (typeof q === "number") return q;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(q));
  if (!m) return NaN;
  const f = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 }[m[2]];
  return f === undefined ? NaN : Number(m[1]) * f;
}

function walkFiles(dir, pred, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, pred, out);
    else if (pred(p)) out.push(p);
  }
  return out;
}

console.log(`Deployment checks under ${ROOT}`);

console.log("\n[contract]");
let TOPICS = {};
check(`${TOPICS_FILE} is the topic table rendered from pipeline-contract's Topic, for ${BROKERS} brokers`, () => {
  const file = path.join(ROOT, TOPICS_FILE);
  const errors = [];
  const text = fs.readFileSync(file, "utf8");
  if (!text.startsWith("# Generated from pipeline-contract's Topic")) errors.push(`${TOPICS_FILE} must be the rendered copy (TopicCopiesTest)`);
  for (const t of YAML.parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o?.kind === "KafkaTopic")) {
    TOPICS[t.spec.topicName] = { partitions: t.spec.partitions, replicas: t.spec.replicas, config: t.spec.config ?? {} };
    if (t.spec.replicas !== REPLICAS) errors.push(`${t.spec.topicName}: ${t.spec.replicas} replicas, expected ${REPLICAS}`);
    if (String(t.spec.config?.["min.insync.replicas"]) !== String(MIN_ISR)) errors.push(`${t.spec.topicName}: min.insync.replicas must be ${MIN_ISR}`);
  }
  if (Object.keys(TOPICS).length === 0) errors.push(`no KafkaTopic in ${TOPICS_FILE}`);
  return errors;
});

// ---------------------------------------------------------------------------------------------------------------
// Dockerfiles and ignore files
// ---------------------------------------------------------------------------------------------------------------
console.log("\n[images]");
for (const [svc, { port }] of Object.entries(SERVICES)) {
  const file = path.join(ROOT, svc, "src/main/docker/Dockerfile.jvm");
  check(`${rel(file)}: JVM image of target/quarkus-app, port ${port}, JAVA_OPTS, non-root`, () => {
    if (!fs.existsSync(file)) return ["missing"];
    const text = fs.readFileSync(file, "utf8").replace(/\\\n/g, " ");
    const lines = text.split("\n").filter((l) => l.trim() && !l.trim().startsWith("#"));
    const errors = [];
    const instr = lines.map((l) => l.trim().split(/\s+/)[0].toUpperCase());
    const known = new Set(["FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"]);
    instr.forEach((i, n) => known.has(i) || errors.push(`unknown instruction '${i}' in: ${lines[n].slice(0, 60)}`));
    if (instr[0] !== "FROM" && instr[0] !== "ARG") errors.push("must start with FROM");
    if (!/^FROM\s+eclipse-temurin:17-jre\b/m.test(text)) errors.push("base image must be eclipse-temurin:17-jre");
    for (const layer of ["target/quarkus-app/lib/", "target/quarkus-app/*.jar", "target/quarkus-app/app/", "target/quarkus-app/quarkus/"]) {
      if (!lines.some((l) => /^COPY\s/i.test(l.trim()) && l.includes(layer))) errors.push(`no COPY of ${layer}`);
    }
    if (!lines.some((l) => new RegExp(`^EXPOSE\\s+${port}\\b`).test(l.trim()))) errors.push(`no EXPOSE ${port}`);
    const ep = lines.find((l) => /^ENTRYPOINT\s/.test(l.trim()));
    if (!ep || !ep.includes("quarkus-run.jar") || !ep.includes("$JAVA_OPTS")) errors.push("ENTRYPOINT must run quarkus-run.jar with $JAVA_OPTS");
    if (ep && /^ENTRYPOINT\s+\[/.test(ep.trim())) {
      try {
        JSON.parse(ep.trim().slice("ENTRYPOINT".length));
      } catch {
        errors.push("ENTRYPOINT exec form is not valid JSON");
      }
    }
    const user = lines.filter((l) => /^USER\s/.test(l.trim())).pop();
    if (!user || /^USER\s+(root|0)(:|\s|$)/.test(user.trim())) errors.push("must switch to a non-root USER");
    if (!/QUARKUS_HTTP_HOST=0\.0\.0\.0/.test(text)) errors.push("must set QUARKUS_HTTP_HOST=0.0.0.0");
    return errors;
  });
  const ignore = `${file}.dockerignore`;
  check(`${rel(ignore)}: context limited to target/quarkus-app`, () => {
    if (!fs.existsSync(ignore)) return ["missing"];
    const pats = fs.readFileSync(ignore, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    const errors = [];
    if (pats[0] !== "*") errors.push("first pattern must be '*'");
    if (!pats.some((p) => /^!target\/quarkus-app\/?\*?$/.test(p))) errors.push("must re-include target/quarkus-app");
    return errors;
  });
}
check(".dockerignore (repository root): excludes everything but the modules' target/quarkus-app", () => {
  const f = path.join(ROOT, ".dockerignore");
  if (!fs.existsSync(f)) return ["missing"];
  const pats = fs.readFileSync(f, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const errors = [];
  if (pats[0] !== "*") errors.push("first pattern must be '*'");
  if (!pats.some((p) => /^!\*\/target\/quarkus-app\/?$/.test(p))) errors.push("must re-include */target/quarkus-app");
  return errors;
});

// ---------------------------------------------------------------------------------------------------------------
// docker-compose
// ---------------------------------------------------------------------------------------------------------------
console.log("\n[docker-compose]");
// Results of commands run by check-deploy.sh: "--external LABEL::FILE", FILE holding the errors (empty: passed).
for (let i = 0; i < args.length; i++) {
  if (args[i] !== "--external") continue;
  const [label, file] = args[i + 1].split("::");
  check(label, () => {
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : `no result (${file})`;
    return text ? text.split("\n") : [];
  });
}
function loadCompose(resolvedFile, sourceFile) {
  const file = resolvedFile ?? sourceFile;
  const doc = YAML.parse(fs.readFileSync(file, "utf8"), { merge: true });
  return { doc, file };
}

function parseTopicScript(cmd) {
  // The one-shot service's bash: a DATASET variable, then `create --topic NAME ...` lines.
  const text = (Array.isArray(cmd) ? cmd.join("\n") : String(cmd)).replace(/\\\n/g, " ").replace(/\$\$/g, "$");
  const vars = {};
  for (const m of text.matchAll(/^\s*([A-Z_]+)="([^"]*)"\s*$/gm)) vars[m[1]] = m[2];
  const topics = {};
  for (const line of text.split("\n")) {
    if (!/^\s*create\s/.test(line)) continue;
    const expanded = line.replace(/\$\{?([A-Z_]+)\}?/g, (_m, v) => vars[v] ?? "");
    const words = expanded.trim().split(/\s+/);
    const t = { partitions: undefined, config: {} };
    let name;
    for (let i = 1; i < words.length; i++) {
      if (words[i] === "--topic") name = words[++i];
      else if (words[i] === "--partitions") t.partitions = Number(words[++i]);
      else if (words[i] === "--config") {
        const [k, ...v] = words[++i].split("=");
        t.config[k] = v.join("=");
      }
    }
    if (name) topics[name] = t;
  }
  const fn = /create\(\)\s*\{([^}]*)\}/.exec(text)?.[1] ?? "";
  const replicas = Number(/--replication-factor\s+(\d+)/.exec(fn)?.[1]);
  for (const t of Object.values(topics)) t.replicas = replicas;
  return { topics, fn, replicas };
}

function compareTopics(found, where) {
  const errors = [];
  for (const [n, exp] of Object.entries(TOPICS)) {
    const t = found[n];
    if (!t) {
      errors.push(`${where}: topic ${n} missing`);
      continue;
    }
    if (t.partitions !== exp.partitions) errors.push(`${where}: ${n} has ${t.partitions} partitions, expected ${exp.partitions}`);
    if (t.replicas !== exp.replicas) errors.push(`${where}: ${n} has ${t.replicas} replicas, expected ${exp.replicas}`);
    const strings = (c) => Object.fromEntries(Object.entries(c ?? {}).map(([k, v]) => [k, String(v)]));
    const cfg = strings(t.config);
    if (stable(cfg) !== stable(strings(exp.config))) errors.push(`${where}: ${n} config ${stable(cfg)}, expected ${stable(strings(exp.config))}`);
  }
  for (const n of Object.keys(found)) if (!TOPICS[n]) errors.push(`${where}: unexpected topic ${n}`);
  return errors;
}

const composeSource = path.join(ROOT, "docker-compose.yml");
const gpuSource = path.join(ROOT, "docker-compose.gpu.yml");
let compose;
check(`docker-compose.yml parses${opt("--compose-config") ? " (as resolved by docker-compose config)" : ""}`, () => {
  compose = loadCompose(opt("--compose-config"), composeSource).doc;
  return compose?.services ? [] : ["no services"];
});
const svcs = compose?.services ?? {};
const envOf = (s) => {
  const e = s?.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((x) => [x.split("=")[0], x.includes("=") ? x.slice(x.indexOf("=") + 1) : null]));
  return e;
};
const ports = (s) => (s?.ports ?? []).map((p) => (typeof p === "string" ? p : `${p.host_ip ?? ""}:${p.published ?? ""}:${p.target}`));

const KAFKA_NODES = Array.from({ length: BROKERS }, (_v, i) => `kafka-${i + 1}`);
const KAFKA_BOOTSTRAP = KAFKA_NODES.map((n) => `${n}:9092`).join(",");
check(`kafka-1..${BROKERS}: apache/kafka:4.1.2, a KRaft cluster of ${BROKERS} (each broker and controller), RF ${REPLICAS}, min ISR ${MIN_ISR}, a volume each`, () => {
  const errors = [];
  const voters = KAFKA_NODES.map((n, i) => `${i + 1}@${n}:9093`).join(",");
  const hostPorts = new Set();
  const clusterIds = new Set();
  for (const [i, name] of KAFKA_NODES.entries()) {
    const k = svcs[name];
    if (!k) {
      errors.push(`no '${name}' service`);
      continue;
    }
    const e = envOf(k);
    if (k.image !== KAFKA_IMAGE) errors.push(`${name}: image ${k.image}, expected ${KAFKA_IMAGE}`);
    const want = {
      KAFKA_NODE_ID: String(i + 1),
      KAFKA_PROCESS_ROLES: "broker,controller",
      KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
      KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
      KAFKA_MESSAGE_MAX_BYTES: "8388608",
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: String(REPLICAS),
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: String(REPLICAS),
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: String(MIN_ISR),
      KAFKA_DEFAULT_REPLICATION_FACTOR: String(REPLICAS),
      KAFKA_MIN_INSYNC_REPLICAS: String(MIN_ISR),
    };
    for (const [key, v] of Object.entries(want)) if (String(e[key]) !== v) errors.push(`${name}: ${key}=${e[key]}, expected ${v}`);
    if (!e.CLUSTER_ID) errors.push(`${name}: CLUSTER_ID not set`);
    clusterIds.add(e.CLUSTER_ID);
    const listeners = String(e.KAFKA_LISTENERS ?? "");
    if (!/PLAINTEXT:\/\/[^,]*:9092/.test(listeners) || !/CONTROLLER:\/\/[^,]*:9093/.test(listeners)) errors.push(`${name}: KAFKA_LISTENERS needs PLAINTEXT on 9092 and CONTROLLER on 9093`);
    if (!String(e.KAFKA_ADVERTISED_LISTENERS).includes(`PLAINTEXT://${name}:9092`)) errors.push(`${name}: PLAINTEXT must be advertised as ${name}:9092 on the compose network`);
    const ext = /EXTERNAL:\/\/localhost:(\d+)/.exec(String(e.KAFKA_ADVERTISED_LISTENERS))?.[1];
    const published = ports(k).map((p) => /^127\.0\.0\.1:(\d+):9094(\/tcp)?$/.exec(p)?.[1]).find(Boolean);
    if (!ext || published !== ext) errors.push(`${name}: the EXTERNAL listener must be published on 127.0.0.1 at the port it advertises`);
    else hostPorts.add(ext);
    if (!k.healthcheck?.test) errors.push(`${name}: no healthcheck`);
    const vols = (k.volumes ?? []).map((v) => (typeof v === "string" ? v.split(":") : [v.source, v.target]));
    const dataDir = String(e.KAFKA_LOG_DIRS ?? "/tmp/kraft-combined-logs");
    if (!vols.some(([src, dst]) => compose.volumes && src === `${name}-data` && src in compose.volumes && dst === dataDir)) errors.push(`${name}: no named volume ${name}-data on the log dir ${dataDir}`);
  }
  if (hostPorts.size !== BROKERS) errors.push("every broker needs a host port of its own");
  if (clusterIds.size !== 1) errors.push("the nodes must share one CLUSTER_ID");
  const extra = Object.keys(svcs).filter((n) => /^kafka(-\d+)?$/.test(n) && !KAFKA_NODES.includes(n));
  if (extra.length) errors.push(`unexpected Kafka services ${extra.join(", ")}`);
  return errors;
});
check("kafka-topics: one-shot creation of every topic with its settings, after every broker is healthy", () => {
  const t = svcs["kafka-topics"];
  if (!t) return ["no 'kafka-topics' service"];
  const errors = [];
  if (t.image !== KAFKA_IMAGE) errors.push(`image ${t.image}, expected ${KAFKA_IMAGE}`);
  for (const n of KAFKA_NODES) if (t.depends_on?.[n]?.condition !== "service_healthy") errors.push(`must depend on ${n}: service_healthy`);
  if (t.restart && t.restart !== "no") errors.push("a one-shot service must not restart");
  const { topics, fn, replicas } = parseTopicScript(t.command);
  if (!/kafka-topics\.sh/.test(fn) || !/--create/.test(fn) || !/--if-not-exists/.test(fn)) errors.push("create() must call kafka-topics.sh --create --if-not-exists");
  if (replicas !== REPLICAS) errors.push(`create() must set --replication-factor ${REPLICAS}`);
  errors.push(...compareTopics(topics, "kafka-topics"));
  return errors;
});
for (const [svc, { port, compose: name }] of Object.entries(SERVICES)) {
  check(`${name}: build ./${svc} with src/main/docker/Dockerfile.jvm, 127.0.0.1:${port}, ready healthcheck, start order`, () => {
    const s = svcs[name];
    if (!s) return [`no '${name}' service`];
    const errors = [];
    const ctx = typeof s.build === "string" ? s.build : s.build?.context;
    if (!ctx || path.resolve(ROOT, ctx) !== path.join(ROOT, svc)) errors.push(`build context ${ctx}, expected ./${svc}`);
    if (s.build?.dockerfile !== "src/main/docker/Dockerfile.jvm") errors.push("dockerfile must be src/main/docker/Dockerfile.jvm");
    if (!fs.existsSync(path.join(ROOT, svc, "src/main/docker/Dockerfile.jvm"))) errors.push("Dockerfile.jvm missing");
    const p = ports(s);
    if (!p.some((x) => x.startsWith(`127.0.0.1:${port}:${port}`))) errors.push(`port ${port} not published as 127.0.0.1:${port}:${port}`);
    const hc = (Array.isArray(s.healthcheck?.test) ? s.healthcheck.test.join(" ") : String(s.healthcheck?.test ?? ""));
    if (!hc.includes(`:${port}/q/health/ready`)) errors.push("healthcheck must probe /q/health/ready on its port");
    for (const n of KAFKA_NODES) if (s.depends_on?.[n]?.condition !== "service_healthy") errors.push(`must depend on ${n}: service_healthy`);
    if (s.depends_on?.["kafka-topics"]?.condition !== "service_completed_successfully") errors.push("must depend on kafka-topics: service_completed_successfully");
    const e = envOf(s);
    if (e.KAFKA_BOOTSTRAP_SERVERS !== KAFKA_BOOTSTRAP) errors.push(`KAFKA_BOOTSTRAP_SERVERS must be ${KAFKA_BOOTSTRAP}`);
    if (e.QUARKUS_HTTP_HOST !== "0.0.0.0") errors.push("QUARKUS_HTTP_HOST must be 0.0.0.0");
    return errors;
  });
}
check("every published port is bound to 127.0.0.1", () =>
  Object.entries(svcs).flatMap(([n, s]) => ports(s).filter((p) => !p.startsWith("127.0.0.1:")).map((p) => `${n}: ${p}`)),
);
check("named volumes: Kafka data and MNIST; DJL caches writable", () => {
  const errors = [];
  const mounts = (s) => (s?.volumes ?? []).map((v) => (typeof v === "string" ? v.split(":") : [v.source, v.target]));
  const ingestEnv = envOf(svcs.ingest);
  const dataDir = ingestEnv.INGEST_DATA_DIR ?? "/data/mnist";
  if (!mounts(svcs.ingest).some(([src, dst]) => compose.volumes && src in compose.volumes && dst === dataDir)) errors.push(`ingest: no named volume on INGEST_DATA_DIR ${dataDir}`);
  for (const n of ["trainer", "inference"]) {
    const dir = envOf(svcs[n]).DJL_CACHE_DIR;
    if (!dir) errors.push(`${n}: DJL_CACHE_DIR not set`);
    else if (!mounts(svcs[n]).some(([, dst]) => dst === dir)) errors.push(`${n}: no volume on DJL_CACHE_DIR ${dir}`);
  }
  return errors;
});
check("signing keys: signing-private mounted by the trainer alone, control-signing by inference alone (read-only)", () => {
  const errors = [];
  const mountsOf = (s) => (s?.volumes ?? []).map((v) => (typeof v === "string" ? v.split(":") : [v.source, v.target, v.read_only ? "ro" : "rw"]));
  const creator = "signing-keys";
  for (const [vol, owner, readOnly] of [["signing-private", "trainer", false], ["control-signing", "inference", true]]) {
    const users = Object.entries(svcs).filter(([, s]) => mountsOf(s).some(([src]) => src === vol)).map(([n]) => n);
    for (const n of users) if (n !== owner && n !== creator) errors.push(`${n} mounts ${vol}: only ${owner} (and ${creator}, which creates it) may`);
    if (!users.includes(owner)) errors.push(`${owner} does not mount ${vol}`);
    if (readOnly && mountsOf(svcs[owner]).some(([src, , mode]) => src === vol && mode !== "ro")) errors.push(`${owner} must mount ${vol} read-only`);
  }
  const file = envOf(svcs.inference).INFERENCE_SIGNING_CONTROL_KEY_FILE;
  if (!mountsOf(svcs.inference).some(([src, dst]) => src === "control-signing" && String(file).startsWith(dst + "/"))) errors.push(`inference: INFERENCE_SIGNING_CONTROL_KEY_FILE=${file} is not in its control-signing volume`);
  return errors;
});
check("trainer: one instance, no GPU reservation unless docker-compose.gpu.yml is added", () => {
  const t = svcs.trainer ?? {};
  const errors = [];
  if ((t.deploy?.replicas ?? 1) !== 1 || (t.scale ?? 1) !== 1) errors.push("the trainer must not be scaled");
  if (t.deploy?.resources?.reservations?.devices) errors.push("the default trainer must not reserve a GPU");
  return errors;
});
check("docker-compose.gpu.yml: trainer reserves one NVIDIA GPU, TRAINER_DEVICE=gpu, -Pgpu documented", () => {
  if (!fs.existsSync(gpuSource)) return ["missing"];
  const errors = [];
  const gpu = loadCompose(opt("--compose-gpu-config"), gpuSource).doc;
  const t = gpu.services?.trainer;
  if (!t) return ["no trainer service"];
  const devs = t.deploy?.resources?.reservations?.devices ?? [];
  if (!devs.some((d) => d.driver === "nvidia" && (d.capabilities ?? []).flat().includes("gpu") && (d.count === 1 || d.count === "1" || d.device_ids)))
    errors.push("deploy.resources.reservations.devices needs {driver: nvidia, count: 1, capabilities: [gpu]}");
  if (envOf(t).TRAINER_DEVICE !== "gpu") errors.push("TRAINER_DEVICE must be gpu");
  const text = fs.readFileSync(gpuSource, "utf8") + fs.readFileSync(composeSource, "utf8");
  if (!/-Pgpu/.test(text)) errors.push("the comments must say the image needs `./mvnw package -Pgpu`");
  if (!/mvnw package -DskipTests/.test(fs.readFileSync(composeSource, "utf8"))) errors.push("docker-compose.yml must say to run ./mvnw package -DskipTests first");
  for (const [n, s] of Object.entries(gpu.services ?? {})) if (n !== "trainer" && s.deploy?.resources?.reservations?.devices) errors.push(`${n} must not reserve a GPU`);
  return errors;
});

// ---------------------------------------------------------------------------------------------------------------
// deploy/: files and references
// ---------------------------------------------------------------------------------------------------------------
console.log("\n[deploy: files]");
const DEPLOY = path.join(ROOT, "deploy");
const yamlFiles = fs.existsSync(DEPLOY) ? walkFiles(DEPLOY, (p) => /\.ya?ml$/.test(p)) : [];
check(`every YAML file under deploy/ parses (${yamlFiles.length} files)`, () => {
  if (!yamlFiles.length) return ["deploy/ has no YAML files"];
  const errors = [];
  for (const f of yamlFiles) {
    try {
      parseDocs(f);
    } catch (e) {
      errors.push(e.message);
    }
  }
  return errors;
});
const kDirs = yamlFiles.filter((f) => /(^|\/)kustomization\.ya?ml$/.test(f)).map((f) => path.dirname(f));
check("every kustomization's resources, components and patches exist, and no manifest is orphaned", () => {
  const errors = [];
  const referenced = new Set();
  for (const dir of kDirs) {
    const kf = yamlFiles.find((f) => path.dirname(f) === dir && /kustomization\.ya?ml$/.test(f));
    referenced.add(kf);
    const k = parseDocs(kf)[0] ?? {};
    for (const r of [...(k.resources ?? []), ...(k.components ?? [])]) {
      const t = path.resolve(dir, r);
      if (!fs.existsSync(t)) errors.push(`${rel(kf)}: ${r} does not exist`);
      else if (fs.statSync(t).isDirectory()) {
        if (!["kustomization.yaml", "kustomization.yml", "Kustomization"].some((n) => fs.existsSync(path.join(t, n)))) errors.push(`${rel(kf)}: ${r} has no kustomization`);
      } else referenced.add(t);
    }
    for (const p of k.patches ?? []) {
      if (p.path) {
        const t = path.resolve(dir, p.path);
        if (!fs.existsSync(t)) errors.push(`${rel(kf)}: patch ${p.path} does not exist`);
        referenced.add(t);
      }
    }
  }
  for (const f of yamlFiles) if (!referenced.has(f)) errors.push(`${rel(f)} is referenced by no kustomization`);
  return errors;
});

// ---------------------------------------------------------------------------------------------------------------
// deploy/: render every overlay and check what comes out
// ---------------------------------------------------------------------------------------------------------------
const overlaysDir = path.join(DEPLOY, "overlays");
const targets = [path.join(DEPLOY, "base"), ...(fs.existsSync(overlaysDir) ? fs.readdirSync(overlaysDir).sort().map((d) => path.join(overlaysDir, d)) : [])]
  .filter((d) => fs.existsSync(d) && fs.statSync(d).isDirectory());
check("deploy/README.md names every overlay and how to apply it", () => {
  const f = path.join(DEPLOY, "README.md");
  if (!fs.existsSync(f)) return ["missing"];
  const text = fs.readFileSync(f, "utf8");
  const errors = [];
  for (const t of targets.filter((d) => d.startsWith(overlaysDir))) {
    const name = path.basename(t);
    if (!text.includes(`deploy/overlays/${name}`)) errors.push(`does not mention deploy/overlays/${name}`);
  }
  if (!/kubectl apply -k deploy\/overlays\//.test(text)) errors.push("no `kubectl apply -k deploy/overlays/...` command");
  return errors;
});

function renderWithKustomize(dir) {
  const [cmd, ...rest] = KUSTOMIZE.split(/\s+/);
  let out;
  try {
    out = execFileSync(cmd, [...rest, dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  } catch (e) {
    throw new KustomizeError(`${KUSTOMIZE} ${rel(dir)} failed: ${String(e.stderr || e.message).trim()}`);
  }
  return YAML.parseAllDocuments(out).map((d) => d.toJS()).filter((d) => d != null);
}

const validated = new Map(); // stable(object) -> errors
async function schemaErrors(o) {
  const key = stable(o);
  if (validated.has(key)) return validated.get(key);
  let errors;
  if (String(o.apiVersion).startsWith("kafka.strimzi.io/")) errors = validateStrimzi(o);
  else {
    errors = await validateBuiltin(o);
    if (errors === null) errors = [`no schema known for ${o.apiVersion} ${o.kind} (add it to .ci/deploy-check/schema.mjs)`];
  }
  validated.set(key, errors);
  return errors;
}

function envFor(objs, container) {
  const env = {};
  for (const ef of container.envFrom ?? []) {
    const cm = ef.configMapRef && find(objs, "ConfigMap", ef.configMapRef.name);
    if (cm) Object.assign(env, Object.fromEntries(Object.entries(cm.data ?? {}).map(([k, v]) => [(ef.prefix ?? "") + k, v])));
  }
  for (const e of container.env ?? []) {
    if ("value" in e) env[e.name] = e.value;
    else if (e.valueFrom?.configMapKeyRef) env[e.name] = find(objs, "ConfigMap", e.valueFrom.configMapKeyRef.name)?.data?.[e.valueFrom.configMapKeyRef.key];
  }
  return env;
}

function semanticErrors(name, objs) {
  const errors = [];
  const err = (m) => errors.push(m);
  // namespaces
  for (const o of objs) {
    if (o.kind === "Namespace") continue;
    if (o.metadata?.namespace !== NAMESPACE) err(`${idOf(o)}: namespace ${o.metadata?.namespace ?? "(none)"}, expected ${NAMESPACE}`);
  }
  if (!find(objs, "Namespace", NAMESPACE)) err(`no Namespace ${NAMESPACE}`);
  // Kafka
  const kafkas = byKind(objs, "Kafka");
  if (kafkas.length !== 1) err(`expected one Kafka, found ${kafkas.length}`);
  const kafka = kafkas[0];
  const kname = kafka?.metadata?.name;
  const version = String(kafka?.spec?.kafka?.version ?? "");
  if (kafka && !version.startsWith("4.1.")) err(`Kafka version ${version}, expected 4.1.x`);
  const cfg = kafka?.spec?.kafka?.config ?? {};
  if (kafka && String(cfg["auto.create.topics.enable"]) !== "false") err("Kafka: auto.create.topics.enable must be false");
  if (kafka && Number(cfg["message.max.bytes"]) < Number(LARGE)) err("Kafka: message.max.bytes must allow 4 MiB records");
  if (kafka && !kafka.spec?.entityOperator?.topicOperator) err("Kafka: the topic operator must run (KafkaTopic resources)");
  const pools = byKind(objs, "KafkaNodePool").filter((p) => p.metadata?.labels?.["strimzi.io/cluster"] === kname);
  if (!pools.length) err(`no KafkaNodePool labelled strimzi.io/cluster=${kname}`);
  const roles = new Set(pools.flatMap((p) => p.spec?.roles ?? []));
  if (!roles.has("controller") || !roles.has("broker")) err("the node pools must provide the controller and broker roles (KRaft)");
  const brokers = pools.filter((p) => p.spec?.roles?.includes("broker")).reduce((a, p) => a + (p.spec?.replicas ?? 0), 0);
  if (brokers !== BROKERS) err(`the node pools hold ${brokers} broker(s), expected ${BROKERS}`);
  const controllers = pools.filter((p) => p.spec?.roles?.includes("controller")).reduce((a, p) => a + (p.spec?.replicas ?? 0), 0);
  if (controllers % 2 !== 1 || controllers < 3) err(`${controllers} controller(s): a quorum that survives one loss needs an odd number, at least 3`);
  const want = {
    "offsets.topic.replication.factor": REPLICAS,
    "transaction.state.log.replication.factor": REPLICAS,
    "share.coordinator.state.topic.replication.factor": REPLICAS,
    "default.replication.factor": REPLICAS,
    "transaction.state.log.min.isr": MIN_ISR,
    "share.coordinator.state.topic.min.isr": MIN_ISR,
    "min.insync.replicas": MIN_ISR,
  };
  for (const [k, v] of Object.entries(want)) if (kafka && Number(cfg[k]) !== v) err(`Kafka: ${k}=${cfg[k] ?? "(default)"}, expected ${v}`);
  // topics
  const kts = byKind(objs, "KafkaTopic");
  const topics = {};
  for (const t of kts) {
    const tn = t.spec?.topicName ?? t.metadata?.name;
    if (t.metadata?.labels?.["strimzi.io/cluster"] !== kname) err(`${idOf(t)}: strimzi.io/cluster must be ${kname}`);
    if ((t.spec?.replicas ?? 1) > brokers) err(`${idOf(t)}: ${t.spec.replicas} replicas > ${brokers} broker(s)`);
    if (topics[tn]) err(`topic ${tn} declared twice`);
    topics[tn] = { partitions: t.spec?.partitions, replicas: t.spec?.replicas, config: t.spec?.config ?? {} };
  }
  errors.push(...compareTopics(topics, "KafkaTopics"));
  // bootstrap address: clients use TLS + SCRAM-SHA-512 only, and every user is authorized by ACLs
  const allListeners = kafka?.spec?.kafka?.listeners ?? [];
  const plain = allListeners.filter((l) => l.type === "internal" && l.tls === true && l.authentication?.type === "scram-sha-512");
  for (const l of allListeners) if (l.tls !== true || !l.authentication) err(`Kafka listener ${l.name}: every listener needs TLS and authentication`);
  if (kafka && kafka.spec?.kafka?.authorization?.type !== "simple") err("Kafka: authorization must be simple (KafkaUser ACLs)");
  if (kafka && !kafka.spec?.entityOperator?.userOperator) err("Kafka: the user operator must run (KafkaUser resources)");
  const bootstraps = plain.map((l) => `${kname}-kafka-bootstrap:${l.port}`);
  // users: one per service; only the trainer may write model.checkpoints
  const users = byKind(objs, "KafkaUser");
  const writes = (u, topic) =>
    (u.spec?.authorization?.acls ?? []).some(
      (a) =>
        a.resource?.type === "topic" &&
        (a.type ?? "allow") === "allow" &&
        (a.operations ?? []).some((o) => o === "Write" || o === "All") &&
        (a.resource.patternType === "prefix" ? topic.startsWith(a.resource.name) : a.resource.name === topic || a.resource.name === "*"),
    );
  for (const svc of Object.keys(SERVICES)) {
    const u = find(objs, "KafkaUser", svc);
    if (!u) err(`no KafkaUser ${svc}`);
    else if (u.spec?.authentication?.type !== "scram-sha-512") err(`KafkaUser ${svc}: authentication must be scram-sha-512`);
  }
  for (const u of users) {
    if (u.metadata?.name !== "trainer-service" && writes(u, "model.checkpoints")) err(`KafkaUser ${u.metadata.name} may write model.checkpoints: only the trainer may`);
  }
  const trainerUser = find(objs, "KafkaUser", "trainer-service");
  if (trainerUser && !writes(trainerUser, "model.checkpoints")) err("KafkaUser trainer-service must be allowed to write model.checkpoints");
  // workloads
  const deployments = byKind(objs, "Deployment");
  for (const [svc, { port }] of Object.entries(SERVICES)) {
    const d = find(objs, "Deployment", svc);
    if (!d) {
      err(`no Deployment ${svc}`);
      continue;
    }
    const tpl = d.spec?.template;
    const labels = tpl?.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(d.spec?.selector?.matchLabels ?? {})) if (labels[k] !== v) err(`${svc}: selector ${k}=${v} does not match the pod labels`);
    const c = (tpl?.spec?.containers ?? [])[0];
    if (!c) {
      err(`${svc}: no container`);
      continue;
    }
    const named = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
    if (!(c.ports ?? []).some((p) => p.containerPort === port)) err(`${svc}: container port ${port} not declared`);
    for (const [probe, want] of [["readinessProbe", "/q/health/ready"], ["livenessProbe", "/q/health/live"]]) {
      const g = c[probe]?.httpGet;
      if (!g) err(`${svc}: no ${probe}`);
      else {
        if (g.path !== want) err(`${svc}: ${probe} path ${g.path}, expected ${want}`);
        const p = typeof g.port === "string" ? named[g.port] : g.port;
        if (p !== port) err(`${svc}: ${probe} port ${g.port} is not ${port}`);
      }
    }
    for (const kind of ["requests", "limits"]) {
      for (const r of ["cpu", "memory"]) if (c.resources?.[kind]?.[r] === undefined) err(`${svc}: resources.${kind}.${r} missing`);
    }
    for (const r of ["cpu", "memory"]) {
      const q = c.resources?.requests?.[r];
      const l = c.resources?.limits?.[r];
      if (q !== undefined && l !== undefined && quantity(q) > quantity(l)) err(`${svc}: ${r} request ${q} > limit ${l}`);
    }
    for (const ef of c.envFrom ?? []) if (ef.configMapRef && !find(objs, "ConfigMap", ef.configMapRef.name)) err(`${svc}: ConfigMap ${ef.configMapRef.name} not in the render`);
    const env = envFor(objs, c);
    if (!bootstraps.includes(env.KAFKA_BOOTSTRAP_SERVERS)) err(`${svc}: KAFKA_BOOTSTRAP_SERVERS=${env.KAFKA_BOOTSTRAP_SERVERS}, expected one of ${bootstraps.join(", ")}`);
    if (env.KAFKA_SECURITY_PROTOCOL !== "SASL_SSL" || env.KAFKA_SASL_MECHANISM !== "SCRAM-SHA-512") err(`${svc}: KAFKA_SECURITY_PROTOCOL must be SASL_SSL and KAFKA_SASL_MECHANISM SCRAM-SHA-512`);
    const jaas = (c.env ?? []).find((e) => e.name === "KAFKA_SASL_JAAS_CONFIG")?.valueFrom?.secretKeyRef;
    if (!jaas || jaas.name !== svc || jaas.key !== "sasl.jaas.config") err(`${svc}: KAFKA_SASL_JAAS_CONFIG must come from Secret ${svc} (its KafkaUser), key sasl.jaas.config`);
    const caMount = (c.volumeMounts ?? []).find((m) => env.KAFKA_SSL_TRUSTSTORE_LOCATION?.startsWith(m.mountPath + "/"));
    const caVol = caMount && (tpl.spec.volumes ?? []).find((v) => v.name === caMount.name);
    if (caVol?.secret?.secretName !== `${kname}-cluster-ca-cert`) err(`${svc}: KAFKA_SSL_TRUSTSTORE_LOCATION must be in a mount of Secret ${kname}-cluster-ca-cert`);
    if (env.QUARKUS_HTTP_HOST !== "0.0.0.0") err(`${svc}: QUARKUS_HTTP_HOST must be 0.0.0.0`);
    const vols = Object.fromEntries((tpl.spec.volumes ?? []).map((v) => [v.name, v]));
    for (const m of c.volumeMounts ?? []) if (!vols[m.name]) err(`${svc}: volumeMount ${m.name} has no volume`);
    for (const v of Object.values(vols)) {
      if (v.persistentVolumeClaim && !find(objs, "PersistentVolumeClaim", v.persistentVolumeClaim.claimName)) err(`${svc}: PVC ${v.persistentVolumeClaim.claimName} not in the render`);
      if (v.configMap && !find(objs, "ConfigMap", v.configMap.name)) err(`${svc}: ConfigMap ${v.configMap.name} not in the render`);
    }
    const mountedAt = (dir) => (c.volumeMounts ?? []).some((m) => m.mountPath === dir && vols[m.name] && (vols[m.name].emptyDir || vols[m.name].persistentVolumeClaim));
    if (svc !== "ingest-service") {
      if (!env.DJL_CACHE_DIR) err(`${svc}: DJL_CACHE_DIR not set`);
      else if (!mountedAt(env.DJL_CACHE_DIR)) err(`${svc}: DJL_CACHE_DIR ${env.DJL_CACHE_DIR} is not a mounted emptyDir/PVC`);
    } else {
      if (!env.INGEST_DATA_DIR) err(`${svc}: INGEST_DATA_DIR not set`);
      else if (!mountedAt(env.INGEST_DATA_DIR)) err(`${svc}: INGEST_DATA_DIR ${env.INGEST_DATA_DIR} is not a mounted volume`);
    }
    const sc = tpl.spec.securityContext ?? {};
    if (sc.runAsNonRoot !== true) err(`${svc}: pod must set runAsNonRoot`);
    if (c.securityContext?.allowPrivilegeEscalation !== false) err(`${svc}: allowPrivilegeEscalation must be false`);
    if (svc === "trainer-service") {
      if (d.spec?.replicas !== 1) err("trainer-service: replicas must be 1");
      if (d.spec?.strategy?.type !== "Recreate") err("trainer-service: strategy must be Recreate");
    }
    // What each variable may hold, and whether it may differ from the code's default, is checked from the code
    // itself by e2e-tests' DeploymentDefaultsTest, not here.
  }
  // signing keys: the checkpoint key's private half in the trainer alone, the control-record key pair in inference alone
  const secretMounts = (d, secret) => {
    const c = d.spec?.template?.spec?.containers?.[0];
    return (d.spec?.template?.spec?.volumes ?? [])
      .filter((v) => v.secret?.secretName === secret)
      .map((v) => ({ vol: v, mount: (c?.volumeMounts ?? []).find((m) => m.name === v.name) }))
      .filter((x) => x.mount);
  };
  for (const d of deployments) {
    const svc = d.metadata.name;
    for (const { vol } of secretMounts(d, "lenet-checkpoint-signing")) {
      const items = vol.secret.items?.map((i) => i.key);
      if (svc !== "trainer-service" && (!items || items.includes("checkpoint-signing.key"))) err(`${svc} mounts the checkpoint signing private key: only the trainer may`);
    }
    const control = secretMounts(d, "lenet-control-signing-key");
    if (svc !== "inference-service") {
      if (control.length) err(`${svc} mounts the control signing key (Secret lenet-control-signing-key): only inference may`);
      continue;
    }
    const file = envFor(objs, d.spec.template.spec.containers[0]).INFERENCE_SIGNING_CONTROL_KEY_FILE;
    if (!control.length) err("inference-service: Secret lenet-control-signing-key is not mounted");
    for (const { mount } of control) if (mount.readOnly !== true) err("inference-service: the control signing key must be mounted read-only");
    if (!control.some(({ mount }) => String(file).startsWith(mount.mountPath + "/"))) err(`inference-service: INFERENCE_SIGNING_CONTROL_KEY_FILE=${file} is not in the mount of Secret lenet-control-signing-key`);
  }
  // services
  for (const s of byKind(objs, "Service")) {
    const sel = s.spec?.selector ?? {};
    const d = deployments.find((x) => Object.entries(sel).every(([k, v]) => x.spec?.template?.metadata?.labels?.[k] === v));
    if (!d) {
      err(`${idOf(s)}: selector matches no Deployment`);
      continue;
    }
    const cports = d.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
    for (const p of s.spec?.ports ?? []) {
      const tp = p.targetPort ?? p.port;
      if (!cports.some((cp) => cp.name === tp || cp.containerPort === tp)) err(`${idOf(s)}: targetPort ${tp} is not a port of ${d.metadata.name}`);
    }
  }
  // autoscaling
  const sos = byKind(objs, "ScaledObject");
  const hpas = byKind(objs, "HorizontalPodAutoscaler");
  const targetsOf = [...sos.map((s) => s.spec?.scaleTargetRef?.name), ...hpas.map((h) => h.spec?.scaleTargetRef?.name)];
  for (const t of new Set(targetsOf)) if (targetsOf.filter((x) => x === t).length > 1) err(`${t} is targeted by more than one autoscaler (KEDA creates its own HPA)`);
  for (const t of targetsOf) if (!find(objs, "Deployment", t)) err(`autoscaler target ${t} is not a Deployment in the render`);
  if (targetsOf.includes("trainer-service")) err("the trainer must never be autoscaled");
  for (const so of sos) {
    if (so.spec?.scaleTargetRef?.name !== "inference-service") continue;
    const tr = (so.spec.triggers ?? []).filter((x) => x.type === "kafka");
    if (!tr.length) err(`${idOf(so)}: no kafka trigger`);
    for (const x of tr) {
      const m = x.metadata ?? {};
      if (m.consumerGroup !== "inference-service") err(`${idOf(so)}: consumerGroup ${m.consumerGroup}, expected inference-service`);
      if (m.topic !== "digits.images") err(`${idOf(so)}: topic ${m.topic}, expected digits.images`);
      if (!(Number(m.lagThreshold) > 0)) err(`${idOf(so)}: lagThreshold must be a positive number`);
      const fq = plain.map((l) => `${kname}-kafka-bootstrap.${NAMESPACE}.svc:${l.port}`);
      const fq2 = fq.map((a) => a.replace(".svc:", ".svc.cluster.local:"));
      if (![...fq, ...fq2].includes(m.bootstrapServers)) err(`${idOf(so)}: bootstrapServers ${m.bootstrapServers}; KEDA runs in its own namespace, use ${fq[0]}`);
      if (m.sasl !== "scram_sha512" || m.tls !== "enable") err(`${idOf(so)}: the kafka trigger needs sasl: scram_sha512 and tls: enable`);
      if (!find(objs, "TriggerAuthentication", x.authenticationRef?.name)) err(`${idOf(so)}: authenticationRef ${x.authenticationRef?.name} is not a TriggerAuthentication in the render`);
    }
    const parts = topics["digits.images"]?.partitions ?? 0;
    if ((so.spec.maxReplicaCount ?? 100) > parts) err(`${idOf(so)}: maxReplicaCount ${so.spec.maxReplicaCount} > ${parts} partitions of digits.images`);
    if ((so.spec.minReplicaCount ?? 0) < 1) err(`${idOf(so)}: minReplicaCount must be >= 1 (the replica serves HTTP too)`);
  }
  for (const h of hpas) {
    if ((h.spec?.maxReplicas ?? 0) > (topics["digits.images"]?.partitions ?? 0)) err(`${idOf(h)}: maxReplicas > partitions of digits.images`);
    if (!(h.spec?.metrics ?? []).some((m) => m.type === "Resource" && m.resource?.name === "cpu")) err(`${idOf(h)}: no CPU metric`);
    if (!String(h.apiVersion).startsWith("autoscaling/v2")) err(`${idOf(h)}: use autoscaling/v2`);
  }
  // overlay intent
  const trainer = find(objs, "Deployment", "trainer-service");
  const tc = trainer?.spec?.template?.spec?.containers?.[0];
  const gpuLimit = tc?.resources?.limits?.["nvidia.com/gpu"];
  const isGpu = /gpu/.test(name);
  if (isGpu) {
    if (String(gpuLimit) !== "1") err("gpu: trainer needs limits nvidia.com/gpu: 1");
    if (!Object.keys(trainer?.spec?.template?.spec?.nodeSelector ?? {}).length) err("gpu: trainer needs a nodeSelector");
    if (!(trainer?.spec?.template?.spec?.tolerations ?? []).some((t) => t.key === "nvidia.com/gpu")) err("gpu: trainer needs a toleration for nvidia.com/gpu");
    if (tc && envFor(objs, tc).TRAINER_DEVICE !== "gpu") err("gpu: TRAINER_DEVICE must be gpu");
    if (!/gpu/.test(String(tc?.image))) err(`gpu: trainer image ${tc?.image} should be the -Pgpu build (tag :gpu)`);
  } else if (gpuLimit !== undefined) err("only the gpu overlays may request nvidia.com/gpu");
  for (const d of deployments) {
    if (d.metadata.name !== "trainer-service" && d.spec?.template?.spec?.containers?.some((c) => c.resources?.limits?.["nvidia.com/gpu"])) err(`${d.metadata.name} must not request a GPU`);
  }
  const wantKeda = /keda/.test(name);
  const wantHpa = /(^|-)hpa$/.test(name);
  if (wantKeda !== (sos.length > 0)) err(wantKeda ? "keda: no ScaledObject for inference-service" : `${name}: unexpected ScaledObject`);
  if (wantHpa !== (hpas.length > 0)) err(wantHpa ? "hpa: no HorizontalPodAutoscaler for inference-service" : `${name}: unexpected HorizontalPodAutoscaler`);
  return errors;
}

async function checkTarget(dir) {
  const name = path.basename(dir);
  const label = rel(dir);
  console.log(`\n[${label}]`);
  let objs = [];
  check(`${label}: renders with kustomize-lite`, () => {
    objs = render(dir);
    return objs.length ? [] : ["renders to nothing"];
  });
  if (KUSTOMIZE) {
    check(`${label}: \`${KUSTOMIZE}\` renders the same objects`, () => {
      const real = renderWithKustomize(dir);
      const errors = [];
      const key = (o) => `${String(o.apiVersion).split("/").slice(0, -1).join("/")}|${idOf(o)}`;
      const a = new Map(objs.map((o) => [key(o), o]));
      const b = new Map(real.map((o) => [key(o), o]));
      for (const [k, o] of b) {
        if (!a.has(k)) errors.push(`only in kustomize: ${k}`);
        else if (stable(a.get(k)) !== stable(o)) errors.push(`differs: ${k}\n            kustomize-lite: ${stable(a.get(k)).slice(0, 400)}\n            kustomize:      ${stable(o).slice(0, 400)}`);
      }
      for (const k of a.keys()) if (!b.has(k)) errors.push(`only in kustomize-lite: ${k}`);
      if (!errors.length) objs = real;
      return errors;
    });
  }
  if (!objs.length) return;
  await checkAsync(`${label}: ${objs.length} objects pass their schemas (kubernetes-models, KEDA, Strimzi)`, async () => {
    const errors = [];
    for (const o of objs) for (const e of await schemaErrors(o)) errors.push(`${idOf(o)}: ${e}`);
    return errors;
  });
  check(`${label}: references, probes, resources, topics, namespaces and autoscaling are consistent`, () => semanticErrors(name, objs));
}

for (const t of targets) await checkTarget(t);
if (!targets.some((t) => path.basename(t) === "keda") || !targets.some((t) => path.basename(t) === "hpa") || !targets.some((t) => path.basename(t) === "gpu")) {
  check("deploy/overlays has keda, hpa and gpu", () => ["missing overlay(s)"]);
}

console.log(`\ncheck-deploy: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
