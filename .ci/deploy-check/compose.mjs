// docker-compose.yml (+ docker-compose.gpu.yml): what only a container engine would show. The booted test
// (ComposeDeploymentIT) runs every service with the environment the file gives it, its topic and signing-key jobs
// included; it cannot show the images, the published ports, the names the compose network resolves, the start
// conditions or the GPU reservation. Those are checked here, against the services' code and the pom.
import path from "node:path";
import { builtImages, pomProperty, splitImage } from "./repo.mjs";

const envOf = (s) => {
  const e = s?.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((x) => [x.split("=")[0], x.includes("=") ? x.slice(x.indexOf("=") + 1) : null]));
  return e;
};
// Published ports as { ip, published, target }.
const portsOf = (s) =>
  (s?.ports ?? []).map((p) => {
    if (typeof p !== "string") return { ip: p.host_ip ?? "", published: String(p.published ?? ""), target: Number(p.target) };
    const parts = p.replace(/\/(tcp|udp)$/, "").split(":");
    return { ip: parts.length === 3 ? parts[0] : "", published: parts.length > 1 ? parts[parts.length - 2] : "", target: Number(parts[parts.length - 1]) };
  });
const gpuDevices = (s) => (s?.deploy?.resources?.reservations?.devices ?? []).filter((d) => d.driver === "nvidia" || (d.capabilities ?? []).flat().includes("gpu"));
const commandText = (s) => [s?.entrypoint, s?.command].flat().filter(Boolean).join("\n").replace(/\$\$/g, "$");
// NAME://host:port,... -> [{ name, host, port }]
const listeners = (v) =>
  String(v ?? "")
    .split(",")
    .map((x) => /^([A-Z_]+):\/\/([^:]*):(\d+)$/.exec(x.trim()))
    .filter(Boolean)
    .map(([, name, host, port]) => ({ name, host, port: Number(port) }));

export function checkCompose({ root, services, compose, composeGpu, check }) {
  const svcs = compose?.services ?? {};
  const built = builtImages(root, compose, services);
  const kafkaVersion = pomProperty(root, "kafka.version");

  check(`images: each built from a service module's ${"src/main/docker/Dockerfile.jvm"} and named after it, explicit tags, Kafka at ${kafkaVersion} (pom.xml kafka.version)`, () => {
    const errors = [];
    for (const [n, s] of Object.entries(svcs)) {
      const { name, tag } = splitImage(s.image);
      if (!s.image) errors.push(`${n}: no image`);
      else if (!tag) errors.push(`${n}: image ${s.image} has no tag`);
      const ctx = typeof s.build === "string" ? s.build : s.build?.context;
      if (ctx) {
        const module = path.relative(root, path.resolve(root, ctx));
        if (!(module in services)) errors.push(`${n}: build context ${ctx} is not a service module (${Object.keys(services).join(", ")})`);
        else {
          if ((s.build?.dockerfile ?? "Dockerfile") !== "src/main/docker/Dockerfile.jvm") errors.push(`${n}: dockerfile must be src/main/docker/Dockerfile.jvm`);
          if (name.split("/").pop() !== module) errors.push(`${n}: image ${s.image} is not named after its module ${module}`);
        }
      } else if (name.split("/").pop() === "kafka") {
        if (tag !== kafkaVersion) errors.push(`${n}: image ${s.image}, expected Kafka ${kafkaVersion}`);
      } else if (s.image && !built[name]) errors.push(`${n}: image ${s.image} is neither built by this file nor Kafka`);
    }
    for (const m of Object.keys(services)) if (!Object.values(built).some((b) => b.module === m)) errors.push(`no service builds ${m}`);
    return errors;
  });

  check("ports: published on 127.0.0.1 only; a service's container port and healthcheck are its quarkus.http.port, on 0.0.0.0", () => {
    const errors = [];
    for (const [n, s] of Object.entries(svcs)) {
      for (const p of portsOf(s)) if (p.ip !== "127.0.0.1") errors.push(`${n}: port ${p.published}:${p.target} is published on ${p.ip || "every interface"}`);
      const ctx = typeof s.build === "string" ? s.build : s.build?.context;
      const port = ctx && services[path.relative(root, path.resolve(root, ctx))];
      if (!port) continue;
      const host = envOf(s).QUARKUS_HTTP_HOST;
      if (host != null && host !== "" && host !== "0.0.0.0") errors.push(`${n}: QUARKUS_HTTP_HOST=${host}: published ports reach the container's address, so it must be 0.0.0.0 (the image's)`);
      for (const p of portsOf(s)) if (p.target !== port) errors.push(`${n}: publishes container port ${p.target}, the service listens on ${port}`);
      const hc = [s.healthcheck?.test].flat().join(" ");
      const hp = /https?:\/\/[^/:\s]+:(\d+)\//.exec(hc)?.[1];
      if (hc && Number(hp) !== port) errors.push(`${n}: healthcheck probes port ${hp}, the service listens on ${port}`);
    }
    return errors;
  });

  check("network: every Kafka address names a compose service listening on that port; voters, advertised listeners, one cluster id", () => {
    const errors = [];
    const nodes = Object.entries(svcs).filter(([, s]) => envOf(s).KAFKA_LISTENERS);
    const nodeByHost = (h) => nodes.find(([n, s]) => n === h || s.hostname === h);
    const resolve = (where, addr) => {
      const [host, port] = addr.split(":");
      const node = nodeByHost(host);
      if (!node) errors.push(`${where}: ${addr}: no compose service ${host} runs Kafka`);
      else if (!listeners(envOf(node[1]).KAFKA_LISTENERS).some((l) => l.port === Number(port))) errors.push(`${where}: ${addr}: ${host} has no listener on ${port}`);
      return node;
    };
    for (const [n, s] of Object.entries(svcs)) {
      for (const [k, v] of Object.entries(envOf(s))) if (/BOOTSTRAP_SERVERS$/.test(k) && v) for (const a of String(v).split(",")) resolve(`${n} ${k}`, a.trim());
      for (const m of commandText(s).matchAll(/(?:BOOTSTRAP=|--bootstrap-server[ =])([^\s$"']\S*)/g)) for (const a of m[1].split(",")) resolve(`${n} command`, a);
    }
    const clusterIds = new Set();
    const ids = new Set();
    for (const [n, s] of nodes) {
      const e = envOf(s);
      clusterIds.add(e.CLUSTER_ID);
      if (ids.has(String(e.KAFKA_NODE_ID))) errors.push(`${n}: KAFKA_NODE_ID ${e.KAFKA_NODE_ID} is taken`);
      ids.add(String(e.KAFKA_NODE_ID));
      const own = listeners(e.KAFKA_LISTENERS);
      for (const v of String(e.KAFKA_CONTROLLER_QUORUM_VOTERS ?? "").split(",").filter(Boolean)) {
        const [id, addr] = v.split("@");
        const node = resolve(`${n} KAFKA_CONTROLLER_QUORUM_VOTERS`, addr);
        if (node && String(envOf(node[1]).KAFKA_NODE_ID) !== id) errors.push(`${n}: voter ${v}: ${node[0]} is node ${envOf(node[1]).KAFKA_NODE_ID}`);
      }
      for (const a of listeners(e.KAFKA_ADVERTISED_LISTENERS)) {
        const l = own.find((x) => x.name === a.name);
        if (!l) errors.push(`${n}: advertises ${a.name}, which KAFKA_LISTENERS lacks`);
        else if (a.host === "localhost" || a.host === "127.0.0.1") {
          if (!portsOf(s).some((p) => p.published === String(a.port) && p.target === l.port)) errors.push(`${n}: advertises ${a.name} as ${a.host}:${a.port} but does not publish ${a.port} -> ${l.port}`);
        } else if (nodeByHost(a.host)?.[0] !== n || a.port !== l.port) errors.push(`${n}: advertises ${a.name} as ${a.host}:${a.port}, which is not itself on port ${l.port}`);
      }
    }
    if (clusterIds.size > 1) errors.push(`the Kafka nodes have different CLUSTER_IDs: ${[...clusterIds].join(", ")}`);
    return errors;
  });

  check("start order: service_healthy waits on a service with a healthcheck, service_completed_successfully on one that ends", () => {
    const errors = [];
    for (const [n, s] of Object.entries(svcs)) {
      const deps = Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, {}])) : s.depends_on ?? {};
      for (const [d, { condition } = {}] of Object.entries(deps)) {
        const t = svcs[d];
        if (!t) errors.push(`${n}: depends on ${d}, which is no service`);
        else if (condition === "service_healthy" && !t.healthcheck?.test) errors.push(`${n}: waits for ${d} to be healthy, which has no healthcheck`);
        else if (condition === "service_completed_successfully" && /^(always|unless-stopped)$/.test(t.restart ?? "")) errors.push(`${n}: waits for ${d} to complete, which restarts (${t.restart})`);
      }
    }
    return errors;
  });

  check("GPU: only docker-compose.gpu.yml reserves an NVIDIA GPU, for each service whose image it retags", () => {
    const errors = [];
    for (const [n, s] of Object.entries(svcs)) if (gpuDevices(s).length) errors.push(`${n} reserves a GPU without docker-compose.gpu.yml`);
    if (!composeGpu) return [...errors, "docker-compose.gpu.yml missing or not resolved"];
    const gsvcs = composeGpu.services ?? {};
    const reserving = Object.keys(gsvcs).filter((n) => gpuDevices(gsvcs[n]).length);
    if (!reserving.length) errors.push("docker-compose.gpu.yml reserves no GPU");
    for (const [n, s] of Object.entries(gsvcs)) {
      const before = splitImage(svcs[n]?.image);
      const after = splitImage(s.image);
      const retagged = after.tag !== before.tag;
      if (reserving.includes(n) !== retagged) errors.push(`${n}: ${retagged ? "its image is retagged to" : "reserves a GPU with"} ${s.image}${retagged ? " but it reserves no GPU" : ", the CPU build's image"}`);
      if (after.name !== before.name) errors.push(`${n}: the GPU image ${s.image} must be ${before.name} with another tag`);
      for (const d of gpuDevices(s)) if (!(d.count >= 1 || Number(d.count) >= 1 || d.device_ids) || !(d.capabilities ?? []).flat().includes("gpu")) errors.push(`${n}: a GPU reservation needs count (or device_ids) and capabilities [gpu]`);
    }
    return errors;
  });
}
