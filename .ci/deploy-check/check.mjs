// Offline checks of the deployment files: what the booted tests (KubernetesDeploymentIT, ComposeDeploymentIT in
// e2e-tests) cannot show, because they run the services as local processes with the configuration the files give
// them, without a container engine or a cluster. Called by .ci/check-deploy.sh, which installs the npm packages and
// runs `docker-compose config` first. The jobs:
//   dockerfiles.mjs  the images' Dockerfiles and .dockerignore files
//   compose.mjs      docker-compose.yml (+ docker-compose.gpu.yml): images, published ports, network names, start
//                    conditions, the GPU reservation
//   manifests.mjs    deploy/: every overlay rendered by kustomize, then schemas (schema.mjs), images, resources,
//                    references between objects that only a cluster resolves, pod security
// Every allowed value comes from the repository (repo.mjs): service modules and ports from pom.xml and
// application.properties, the Kafka version and Java release from pom.xml, image names from docker-compose.yml,
// Secrets the operator creates from deploy/README.md.
//
//   node .ci/deploy-check/check.mjs --root DIR [--compose-config FILE] [--compose-gpu-config FILE]
//        [--external "LABEL::ERRFILE"]... [--skip "LABEL: WHY"]... [--kustomize "kubectl kustomize" | "kustomize build"]
//        [--strict]   (a skip fails)
//
// Without --kustomize the overlays are not rendered: one SKIP line says so and the other checks still run.
// Prints one line per check and ends with "check-deploy: N passed, M failed, K skipped"; exits 1 on any failure.
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { loadCompose, services as readServices } from "./repo.mjs";
import { checkDockerfiles } from "./dockerfiles.mjs";
import { checkCompose } from "./compose.mjs";
import { checkDeployFiles, manifestChecks, render } from "./manifests.mjs";
import { validateBuiltin, validateStrimzi } from "./schema.mjs";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const opts = (name) => args.flatMap((a, i) => (a === name ? [args[i + 1]] : []));
const ROOT = path.resolve(opt("--root") ?? ".");
const KUSTOMIZE = opt("--kustomize");

let passed = 0;
let failed = 0;
let skipped = 0;
async function check(name, fn) {
  let errors;
  try {
    errors = (await fn()) ?? [];
  } catch (e) {
    errors = [e.stack ?? String(e)];
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
// Synchronous checks (the jobs call check() without awaiting): run them in order through one promise chain.
let chain = Promise.resolve();
const checkInOrder = (name, fn) => (chain = chain.then(() => check(name, fn)));
function skip(line) {
  skipped++;
  console.log(`  SKIP  ${line}`);
}

const rel = (p) => path.relative(ROOT, p) || ".";
function walkFiles(dir, pred, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, pred, out);
    else if (pred(p)) out.push(p);
  }
  return out;
}

console.log(`Deployment checks under ${ROOT}`);
const services = readServices(ROOT);
console.log(`  services (pom.xml modules with quarkus.http.port): ${Object.entries(services).map(([m, p]) => `${m}:${p}`).join(", ")}`);
const composeFile = path.join(ROOT, "docker-compose.yml");
const gpuFile = path.join(ROOT, "docker-compose.gpu.yml");
const compose = loadCompose(opt("--compose-config"), composeFile);
const composeGpu = fs.existsSync(gpuFile) ? loadCompose(opt("--compose-gpu-config"), composeFile, gpuFile) : undefined;
const ctx = { root: ROOT, services, compose, composeGpu, check: checkInOrder, rel, walkFiles };

console.log("\n[images: Dockerfiles]");
checkDockerfiles(ctx);
await chain;

console.log("\n[docker-compose]");
for (const s of opts("--skip")) skip(s);
// Results of commands run by check-deploy.sh: FILE holds their errors (empty: passed).
for (const e of opts("--external")) {
  const [label, file] = e.split("::");
  await check(label, () => {
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : `no result (${file})`;
    return text ? text.split("\n") : [];
  });
}
checkCompose(ctx);
await chain;

console.log("\n[deploy: files]");
const targets = checkDeployFiles(ctx);
await chain;

const validated = new Map(); // JSON of an object -> its schema errors (the overlays share most objects)
async function schemaErrors(o) {
  const key = JSON.stringify(o);
  if (!validated.has(key)) {
    let errors = String(o.apiVersion).startsWith("kafka.strimzi.io/") ? validateStrimzi(o) : await validateBuiltin(o);
    if (errors === null) errors = [`no schema known for ${o.apiVersion} ${o.kind} (add it to .ci/deploy-check/schema.mjs)`];
    validated.set(key, errors);
  }
  return validated.get(key);
}

if (!KUSTOMIZE) {
  console.log("");
  skip(`deploy/: no \`kubectl kustomize\` / \`kustomize\` v4+ on this machine: the overlays (${targets.map(rel).join(", ")}) were NOT rendered, and their schemas, images, resources and references were NOT checked`);
}
for (const dir of KUSTOMIZE ? targets : []) {
  const label = rel(dir);
  console.log(`\n[${label}]`);
  let objs = [];
  await check(`${label}: renders with \`${KUSTOMIZE}\``, () => {
    objs = render(KUSTOMIZE, dir, execFileSync);
    return objs.length ? [] : ["renders to nothing"];
  });
  if (!objs.length) continue;
  await check(`${label}: ${objs.length} objects pass their schemas (kubernetes-models, KEDA, Strimzi v1), unknown fields included`, async () => {
    const errors = [];
    for (const o of objs) for (const e of await schemaErrors(o)) errors.push(`${o.kind}/${o.metadata?.name}: ${e}`);
    return errors;
  });
  const m = manifestChecks(ctx, path.basename(dir), objs);
  await check(`${label}: images are the ones docker-compose.yml builds, with its tags; ports are the services' on 0.0.0.0; Kafka is pom.xml's version`, m.images);
  await check(`${label}: every container and Kafka node has cpu/memory requests and limits; GPU pods land on GPU nodes`, m.resources);
  await check(`${label}: Secrets, ConfigMaps, PVCs, ServiceAccounts, Services, probes' ports, autoscaler targets, Strimzi's names, operators and node pools, the namespace resolve`, m.references);
  await check(`${label}: pods run as non-root without privilege escalation`, m.security);
}

console.log(`\ncheck-deploy: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (skipped && args.includes("--strict")) console.log("check-deploy: DEPLOY_CHECK_STRICT=true and a check was skipped: failing");
process.exit(failed || (skipped && args.includes("--strict")) ? 1 : 0);
