// deploy/: what only a cluster would show about a rendered overlay. The booted test (KubernetesDeploymentIT) starts
// the services with the environment, users, ACLs and topics the render gives them; it cannot show that the API
// server accepts the objects, that the images exist, that pods get resources and a node, or that the names objects
// give each other (Secrets, ConfigMaps, PVCs, ServiceAccounts, Services, autoscaler targets, Strimzi's own Secrets
// and Services) resolve. Those are checked here, with allowed values read from the repository (repo.mjs).
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { builtImages, pomProperty, readmeSecrets, splitImage } from "./repo.mjs";

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass", "PriorityClass", "ClusterTriggerAuthentication"]);
const GPU = "nvidia.com/gpu";

const idOf = (o) => `${o.kind}/${o.metadata?.name}`;
const byKind = (objs, kind) => objs.filter((o) => o.kind === kind);
const find = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata?.name === name);
const podsOf = (objs) =>
  objs.filter((o) => WORKLOADS.has(o.kind)).map((w) => {
    const spec = w.spec?.template?.spec ?? {};
    return { w, spec, labels: w.spec?.template?.metadata?.labels ?? {}, containers: [...(spec.initContainers ?? []), ...(spec.containers ?? [])] };
  });
const quantity = (q) => {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(q));
  const f = m && { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 }[m[2]];
  return f === undefined || !m ? NaN : Number(m[1]) * f;
};
const matches = (selector, labels) => Object.keys(selector ?? {}).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Renders DIR with the kustomize command given (`kubectl kustomize` or `kustomize build`). */
export function render(kustomize, dir, execFileSync) {
  const [cmd, ...rest] = kustomize.split(/\s+/);
  let out;
  try {
    out = execFileSync(cmd, [...rest, dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`${kustomize} ${dir} failed: ${String(e.stderr || e.message).trim()}`);
  }
  return YAML.parseAllDocuments(out).map((d) => d.toJS()).filter((d) => d != null);
}

/** A container's environment as far as the render says it (values and ConfigMap entries; Secrets stay unknown). */
function envFor(objs, c) {
  const env = {};
  for (const ef of c.envFrom ?? []) {
    const cm = ef.configMapRef && find(objs, "ConfigMap", ef.configMapRef.name);
    if (cm) for (const [k, v] of Object.entries(cm.data ?? {})) env[(ef.prefix ?? "") + k] = v;
  }
  for (const e of c.env ?? []) {
    if ("value" in e) env[e.name] = e.value;
    else if (e.valueFrom?.configMapKeyRef) env[e.name] = find(objs, "ConfigMap", e.valueFrom.configMapKeyRef.name)?.data?.[e.valueFrom.configMapKeyRef.key];
  }
  return env;
}

/** Checks of one rendered target (base or an overlay): { images, resources, references, security } -> errors. */
export function manifestChecks({ root, services, compose, composeGpu }, name, objs) {
  const kafkaVersion = pomProperty(root, "kafka.version");
  const built = builtImages(root, compose, services);
  const gpuTags = Object.fromEntries(Object.entries(builtImages(root, composeGpu, services)).filter(([n, b]) => built[n] && b.tag !== built[n].tag).map(([n, b]) => [n, b.tag]));
  const readme = readmeSecrets(root);
  const pods = podsOf(objs);
  const hasGpu = (c) => c.resources?.limits?.[GPU] !== undefined || c.resources?.requests?.[GPU] !== undefined;

  const images = () => {
    const errors = [];
    for (const { w, containers } of pods) {
      for (const c of containers) {
        const { name: img, tag } = splitImage(c.image);
        const b = built[img];
        if (!b) {
          errors.push(`${idOf(w)}/${c.name}: image ${c.image} is none that docker-compose.yml builds (${Object.keys(built).join(", ")})`);
          continue;
        }
        if (tag !== b.tag && tag !== gpuTags[img]) errors.push(`${idOf(w)}/${c.name}: tag ${tag ?? "(none)"}, expected ${b.tag}${gpuTags[img] ? ` or ${gpuTags[img]} (GPU build)` : ""}`);
        if (gpuTags[img] && (tag === gpuTags[img]) !== hasGpu(c)) errors.push(`${idOf(w)}/${c.name}: ${hasGpu(c) ? "requests a GPU with the CPU build's image" : `runs the GPU build (${c.image}) without a ${GPU} limit`}`);
        if (!(c.ports ?? []).some((p) => p.containerPort === services[b.module])) errors.push(`${idOf(w)}/${c.name}: ${b.module} listens on ${services[b.module]} (application.properties), not declared as a containerPort`);
        const host = envFor(objs, c).QUARKUS_HTTP_HOST;
        if (host !== undefined && host !== "0.0.0.0") errors.push(`${idOf(w)}/${c.name}: QUARKUS_HTTP_HOST=${host}: probes and Services reach the pod's address, so it must be 0.0.0.0 (the image's)`);
      }
    }
    for (const k of byKind(objs, "Kafka")) if (String(k.spec?.kafka?.version) !== kafkaVersion) errors.push(`${idOf(k)}: version ${k.spec?.kafka?.version}, expected ${kafkaVersion} (pom.xml kafka.version)`);
    return errors;
  };

  const resources = () => {
    const errors = [];
    const reqLim = (where, r) => {
      for (const kind of ["requests", "limits"]) for (const x of ["cpu", "memory"]) if (r?.[kind]?.[x] === undefined) errors.push(`${where}: resources.${kind}.${x} missing`);
      for (const x of ["cpu", "memory"]) if (r?.requests?.[x] !== undefined && quantity(r.requests[x]) > quantity(r?.limits?.[x])) errors.push(`${where}: ${x} request ${r.requests[x]} > limit ${r.limits[x]}`);
    };
    for (const { w, spec, containers } of pods) {
      for (const c of containers) reqLim(`${idOf(w)}/${c.name}`, c.resources);
      if (containers.some(hasGpu)) {
        if (!Object.keys(spec.nodeSelector ?? {}).length && !spec.affinity?.nodeAffinity) errors.push(`${idOf(w)}: requests a GPU but selects no GPU node`);
        if (!(spec.tolerations ?? []).some((t) => t.key === GPU)) errors.push(`${idOf(w)}: requests a GPU but tolerates no ${GPU} taint`);
      }
    }
    const pools = byKind(objs, "KafkaNodePool");
    for (const p of pools.length ? pools : byKind(objs, "Kafka").map((k) => ({ ...k, spec: k.spec?.kafka }))) {
      reqLim(idOf(p), p.spec?.resources);
      const xmx = p.spec?.jvmOptions?.["-Xmx"];
      if (xmx && quantity(String(xmx).replace(/([mMgG])$/, (u) => `${u.toUpperCase()}i`)) >= quantity(p.spec?.resources?.limits?.memory)) errors.push(`${idOf(p)}: -Xmx ${xmx} leaves no room under the memory limit`);
    }
    const gpuPods = pods.filter((p) => p.containers.some(hasGpu));
    if (/gpu/.test(name) && !gpuPods.length) errors.push(`${name}: a GPU overlay, but no container requests ${GPU}`);
    if (!/gpu/.test(name) && gpuPods.length) errors.push(`${name}: ${gpuPods.map((p) => idOf(p.w)).join(", ")} request(s) ${GPU} outside a GPU overlay`);
    return errors;
  };

  const references = () => {
    const errors = [];
    const err = (m) => errors.push(m);
    // namespace
    const nss = byKind(objs, "Namespace").map((n) => n.metadata.name);
    if (nss.length !== 1) err(`expected one Namespace, found ${nss.length}`);
    const ns = nss[0];
    for (const o of objs) if (!CLUSTER_SCOPED.has(o.kind) && o.metadata?.namespace !== ns) err(`${idOf(o)}: namespace ${o.metadata?.namespace ?? "(none)"}, not ${ns}`);
    // Strimzi: what its operators create (Secrets, the bootstrap Service) from the Kafka and KafkaUsers in the render
    const kafkas = byKind(objs, "Kafka");
    if (kafkas.length !== 1) err(`expected one Kafka, found ${kafkas.length}`);
    const kname = kafkas[0]?.metadata?.name;
    for (const o of objs.filter((x) => String(x.apiVersion).startsWith("kafka.strimzi.io/") && x.kind !== "Kafka")) {
      if (o.metadata?.labels?.["strimzi.io/cluster"] !== kname) err(`${idOf(o)}: label strimzi.io/cluster=${o.metadata?.labels?.["strimzi.io/cluster"]}, the Kafka is ${kname}`);
    }
    // what Strimzi reconciles only when the Kafka asks for it: KafkaTopics and KafkaUsers need their operator, a
    // KRaft cluster both roles in its node pools, a topic's replicas that many brokers
    const eo = kafkas[0]?.spec?.entityOperator ?? {};
    if (byKind(objs, "KafkaTopic").length && !eo.topicOperator) err(`${kname}: KafkaTopics but no entityOperator.topicOperator to create them`);
    if (byKind(objs, "KafkaUser").length && !eo.userOperator) err(`${kname}: KafkaUsers but no entityOperator.userOperator to create them`);
    const pools = byKind(objs, "KafkaNodePool");
    const roles = new Set(pools.flatMap((p) => p.spec?.roles ?? []));
    if (kname && !(roles.has("controller") && roles.has("broker"))) err(`${kname}: its node pools must provide the controller and broker roles (KRaft)`);
    const brokers = pools.filter((p) => p.spec?.roles?.includes("broker")).reduce((a, p) => a + (p.spec?.replicas ?? 0), 0);
    for (const t of byKind(objs, "KafkaTopic")) if ((t.spec?.replicas ?? 0) > brokers) err(`${idOf(t)}: ${t.spec.replicas} replicas, the node pools hold ${brokers} broker(s)`);
    const secrets = {}; // name -> Set(keys)
    for (const s of byKind(objs, "Secret")) secrets[s.metadata.name] = new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]);
    const caKeys = () => new Set(["ca.crt", "ca.p12", "ca.password"]);
    if (kname) Object.assign(secrets, { [`${kname}-cluster-ca-cert`]: caKeys(), [`${kname}-clients-ca-cert`]: caKeys() });
    for (const u of byKind(objs, "KafkaUser")) {
      const t = u.spec?.authentication?.type;
      secrets[u.metadata.name] = new Set(t === "tls" ? ["ca.crt", "user.crt", "user.key", "user.p12", "user.password"] : t ? ["password", "sasl.jaas.config"] : []);
    }
    for (const [n, keys] of Object.entries(readme)) secrets[n] ??= keys;
    const secret = (where, n, key, optional) => {
      if (optional) return;
      if (!secrets[n]) err(`${where}: Secret ${n} is not in the render, not made by Strimzi for ${kname} or a KafkaUser, and not created in deploy/README.md`);
      else if (key !== undefined && !secrets[n].has(key)) err(`${where}: Secret ${n} has no key ${key} (${[...secrets[n]].join(", ")})`);
    };
    const configMap = (where, n, key, optional) => {
      if (optional) return;
      const cm = find(objs, "ConfigMap", n);
      if (!cm) err(`${where}: ConfigMap ${n} is not in the render`);
      else if (key !== undefined && !(key in (cm.data ?? {})) && !(key in (cm.binaryData ?? {}))) err(`${where}: ConfigMap ${n} has no key ${key}`);
    };
    const listenersOf = kafkas[0]?.spec?.kafka?.listeners ?? [];
    const bootstrap = (where, value, qualified) => {
      for (const a of String(value ?? "").split(",")) {
        const [host, port] = a.trim().split(":");
        const hosts = [`${kname}-kafka-bootstrap.${ns}.svc`, `${kname}-kafka-bootstrap.${ns}.svc.cluster.local`, ...(qualified ? [] : [`${kname}-kafka-bootstrap`])];
        if (!hosts.includes(host)) err(`${where}: ${a} is not Strimzi's bootstrap Service of ${kname}${qualified ? ` with its namespace (${hosts[0]})` : ""}`);
        else if (!listenersOf.some((l) => l.type === "internal" && l.port === Number(port))) err(`${where}: ${a}: no internal listener of ${kname} on port ${port}`);
      }
    };
    // pods
    for (const { w, spec, labels, containers } of pods) {
      const id = idOf(w);
      if (!matches(w.spec?.selector?.matchLabels, labels)) err(`${id}: selector does not match its pod labels`);
      const vols = Object.fromEntries((spec.volumes ?? []).map((v) => [v.name, v]));
      for (const v of Object.values(vols)) {
        if (v.secret) for (const k of v.secret.items?.map((i) => i.key) ?? [undefined]) secret(`${id} volume ${v.name}`, v.secret.secretName, k, v.secret.optional);
        if (v.configMap) for (const k of v.configMap.items?.map((i) => i.key) ?? [undefined]) configMap(`${id} volume ${v.name}`, v.configMap.name, k, v.configMap.optional);
        if (v.persistentVolumeClaim && !find(objs, "PersistentVolumeClaim", v.persistentVolumeClaim.claimName)) err(`${id}: PVC ${v.persistentVolumeClaim.claimName} is not in the render`);
        for (const s of v.projected?.sources ?? []) {
          if (s.secret) for (const k of s.secret.items?.map((i) => i.key) ?? [undefined]) secret(`${id} volume ${v.name}`, s.secret.name, k, s.secret.optional);
          if (s.configMap) for (const k of s.configMap.items?.map((i) => i.key) ?? [undefined]) configMap(`${id} volume ${v.name}`, s.configMap.name, k, s.configMap.optional);
        }
      }
      const sa = spec.serviceAccountName ?? spec.serviceAccount;
      if (sa && sa !== "default" && !find(objs, "ServiceAccount", sa)) err(`${id}: ServiceAccount ${sa} is not in the render`);
      for (const s of spec.imagePullSecrets ?? []) secret(`${id} imagePullSecrets`, s.name);
      for (const c of containers) {
        const where = `${id}/${c.name}`;
        for (const m of c.volumeMounts ?? []) if (!vols[m.name]) err(`${where}: volumeMount ${m.name} names no volume of the pod`);
        for (const ef of c.envFrom ?? []) {
          if (ef.configMapRef) configMap(where, ef.configMapRef.name, undefined, ef.configMapRef.optional);
          if (ef.secretRef) secret(where, ef.secretRef.name, undefined, ef.secretRef.optional);
        }
        for (const e of c.env ?? []) {
          const s = e.valueFrom?.secretKeyRef;
          const m = e.valueFrom?.configMapKeyRef;
          if (s) secret(`${where} env ${e.name}`, s.name, s.key, s.optional);
          if (m) configMap(`${where} env ${e.name}`, m.name, m.key, m.optional);
        }
        const portNames = new Set((c.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
        for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
          const p = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port ?? c[probe]?.grpc?.port;
          if (p !== undefined && !portNames.has(p)) err(`${where}: ${probe} port ${p} is not a port of the container`);
        }
        for (const [k, v] of Object.entries(envFor(objs, c))) if (/BOOTSTRAP_SERVERS$/.test(k) && v) bootstrap(`${where} ${k}`, v, false);
      }
    }
    // Services
    for (const s of byKind(objs, "Service")) {
      const targets = pods.filter((p) => matches(s.spec?.selector, p.labels));
      if (!targets.length) err(`${idOf(s)}: selector matches no pod template`);
      for (const t of targets) {
        const ports = t.containers.flatMap((c) => c.ports ?? []);
        for (const p of s.spec?.ports ?? []) {
          const tp = p.targetPort ?? p.port;
          if (!ports.some((cp) => cp.name === tp || cp.containerPort === tp)) err(`${idOf(s)}: targetPort ${tp} is not a port of ${idOf(t.w)}`);
        }
      }
    }
    // autoscalers
    const scalers = [...byKind(objs, "ScaledObject"), ...byKind(objs, "HorizontalPodAutoscaler")];
    const targeted = new Set();
    for (const a of scalers) {
      const ref = a.spec?.scaleTargetRef ?? {};
      const kind = ref.kind ?? "Deployment";
      if (!find(objs, kind, ref.name)) err(`${idOf(a)}: target ${kind}/${ref.name} is not in the render`);
      if (targeted.has(`${kind}/${ref.name}`)) err(`${kind}/${ref.name} has more than one autoscaler (KEDA makes its own HPA)`);
      targeted.add(`${kind}/${ref.name}`);
    }
    for (const so of byKind(objs, "ScaledObject")) {
      for (const t of so.spec?.triggers ?? []) {
        const ref = t.authenticationRef;
        if (ref && !find(objs, ref.kind ?? "TriggerAuthentication", ref.name)) err(`${idOf(so)}: authenticationRef ${ref.kind ?? "TriggerAuthentication"}/${ref.name} is not in the render`);
        if (t.type !== "kafka") continue;
        const m = t.metadata ?? {};
        bootstrap(`${idOf(so)} bootstrapServers`, m.bootstrapServers, true);
        const l = listenersOf.find((x) => x.port === Number(String(m.bootstrapServers).split(":")[1]));
        if (l && (l.tls === true) !== (m.tls === "enable")) err(`${idOf(so)}: tls: ${m.tls}, the listener on ${l.port} has tls: ${l.tls}`);
        if (l && String(l.authentication?.type ?? "none").replace(/-/g, "_") !== String(m.sasl ?? "none").replace("scram_sha512", "scram_sha_512")) err(`${idOf(so)}: sasl: ${m.sasl}, the listener on ${l.port} takes ${l.authentication?.type ?? "no authentication"}`);
        const topic = byKind(objs, "KafkaTopic").find((x) => (x.spec?.topicName ?? x.metadata?.name) === m.topic);
        if (!topic) err(`${idOf(so)}: topic ${m.topic} is no KafkaTopic of the render`);
        else if ((so.spec?.maxReplicaCount ?? 100) > topic.spec?.partitions) err(`${idOf(so)}: maxReplicaCount ${so.spec?.maxReplicaCount ?? 100} > ${topic.spec.partitions} partitions of ${m.topic}: the others would sit idle`);
      }
    }
    for (const ta of byKind(objs, "TriggerAuthentication")) for (const r of ta.spec?.secretTargetRef ?? []) secret(`${idOf(ta)} ${r.parameter}`, r.name, r.key);
    return errors;
  };

  const security = () => {
    const errors = [];
    for (const { w, spec, containers } of pods) {
      for (const c of containers) {
        if (spec.securityContext?.runAsNonRoot !== true && c.securityContext?.runAsNonRoot !== true) errors.push(`${idOf(w)}/${c.name}: runAsNonRoot not set`);
        if (c.securityContext?.allowPrivilegeEscalation !== false) errors.push(`${idOf(w)}/${c.name}: allowPrivilegeEscalation must be false`);
      }
    }
    return errors;
  };
  return { images, resources, references, security };
}

/** deploy/ as files: every YAML parses, every kustomization's entries exist, no manifest is left out. */
export function checkDeployFiles({ root, check, rel, walkFiles }) {
  const deploy = path.join(root, "deploy");
  const yamlFiles = fs.existsSync(deploy) ? walkFiles(deploy, (p) => /\.ya?ml$/.test(p)) : [];
  const docs = (f) => YAML.parseAllDocuments(fs.readFileSync(f, "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${rel(f)}: ${d.errors[0].message}`);
    return d.toJS();
  });
  check(`every YAML file under deploy/ parses (${yamlFiles.length} files)`, () => {
    if (!yamlFiles.length) return ["deploy/ has no YAML files"];
    const errors = [];
    for (const f of yamlFiles) {
      try {
        docs(f);
      } catch (e) {
        errors.push(e.message);
      }
    }
    return errors;
  });
  check("every file under deploy/ is a kustomization or listed by one (nothing is silently left out)", () => {
    const errors = [];
    const referenced = new Set();
    for (const kf of yamlFiles.filter((f) => /(^|\/)kustomization\.ya?ml$/.test(f))) {
      referenced.add(kf);
      const k = docs(kf)[0] ?? {};
      for (const r of [...(k.resources ?? []), ...(k.components ?? []), ...(k.patches ?? []).map((p) => p.path).filter(Boolean)]) {
        const t = path.resolve(path.dirname(kf), r);
        if (!fs.existsSync(t)) errors.push(`${rel(kf)}: ${r} does not exist`);
        referenced.add(t);
      }
    }
    for (const f of yamlFiles) if (!referenced.has(f)) errors.push(`${rel(f)} is listed by no kustomization`);
    return errors;
  });
  const overlaysDir = path.join(deploy, "overlays");
  const overlays = fs.existsSync(overlaysDir) ? fs.readdirSync(overlaysDir).sort().filter((d) => fs.statSync(path.join(overlaysDir, d)).isDirectory()) : [];
  check("deploy/README.md names every overlay and how to apply it", () => {
    const f = path.join(deploy, "README.md");
    if (!fs.existsSync(f)) return ["missing"];
    const text = fs.readFileSync(f, "utf8");
    const errors = overlays.filter((o) => !text.includes(`deploy/overlays/${o}`)).map((o) => `does not mention deploy/overlays/${o}`);
    if (!/kubectl apply -k deploy\/overlays\//.test(text)) errors.push("no `kubectl apply -k deploy/overlays/...` command");
    return errors;
  });
  return [path.join(deploy, "base"), ...overlays.map((o) => path.join(overlaysDir, o))].filter((d) => fs.existsSync(d));
}
