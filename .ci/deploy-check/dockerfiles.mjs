// The images' build files, which no test here runs (there is no container engine): each service module's
// src/main/docker/Dockerfile.jvm and its .dockerignore, and the repository root's .dockerignore. The service's port
// and the Java release come from the code (application.properties, pom.xml).
import fs from "node:fs";
import path from "node:path";
import { DOCKERFILE, pomProperty, splitImage } from "./repo.mjs";

const INSTRUCTIONS = new Set(["FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"]);
const LAYERS = ["target/quarkus-app/lib/", "target/quarkus-app/*.jar", "target/quarkus-app/app/", "target/quarkus-app/quarkus/"];

function patterns(file) {
  return fs.readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}

export function checkDockerfiles({ root, services, check, rel }) {
  const release = pomProperty(root, "maven.compiler.release");
  const pytorch = pomProperty(root, "pytorch.version");
  // Dockerfile.jvm, and any other image of the module beside it (trainer-service's Dockerfile.gpu).
  const dockerfiles = (module) => {
    const dir = path.join(root, module, path.dirname(DOCKERFILE));
    const others = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^Dockerfile\.[^.]+$/.test(f)) : [];
    return [...new Set([path.basename(DOCKERFILE), ...others])].map((f) => path.join(dir, f));
  };
  for (const [module, port] of Object.entries(services)) for (const file of dockerfiles(module)) {
    check(`${rel(file)}: a Java ${release} JRE image of target/quarkus-app, port ${port} (application.properties), non-root`, () => {
      if (!fs.existsSync(file)) return ["missing"];
      const text = fs.readFileSync(file, "utf8").replace(/\\\n/g, " ");
      const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
      const errors = [];
      const instr = lines.map((l) => l.split(/\s+/)[0].toUpperCase());
      instr.forEach((i, n) => INSTRUCTIONS.has(i) || errors.push(`unknown instruction '${i}' in: ${lines[n].slice(0, 60)}`));
      const from = lines.filter((l) => /^FROM\s/i.test(l)).map((l) => splitImage(l.split(/\s+/)[1]));
      if (!from.length) errors.push("no FROM");
      for (const { name, tag } of from) {
        if (!tag || tag === "latest") errors.push(`FROM ${name}: needs an explicit tag`);
        else if (!new RegExp(`^${release}(\\D|$)`).test(tag)) errors.push(`FROM ${name}:${tag}: the tag must name Java ${release} (pom.xml maven.compiler.release)`);
      }
      for (const layer of LAYERS) if (!lines.some((l) => /^COPY\s/i.test(l) && l.includes(layer))) errors.push(`no COPY of ${layer}`);
      if (!lines.some((l) => new RegExp(`^EXPOSE\\s+${port}(/tcp)?$`).test(l))) errors.push(`no EXPOSE ${port}`);
      for (const l of lines.filter((x) => /^EXPOSE\s/.test(x))) if (!l.split(/\s+/).slice(1).every((p) => p.replace("/tcp", "") === String(port))) errors.push(`${l}: the service listens on ${port} only`);
      for (const l of lines.filter((x) => /^HEALTHCHECK\s/.test(x))) {
        const p = /https?:\/\/[^/:\s]+:(\d+)\//.exec(l)?.[1];
        if (p && Number(p) !== port) errors.push(`HEALTHCHECK probes port ${p}, the service listens on ${port}`);
      }
      const ep = lines.find((l) => /^ENTRYPOINT\s/.test(l));
      if (!ep || !ep.includes("quarkus-run.jar") || !ep.includes("$JAVA_OPTS")) errors.push("ENTRYPOINT must run quarkus-run.jar with $JAVA_OPTS");
      if (ep && /^ENTRYPOINT\s+\[/.test(ep)) {
        try {
          JSON.parse(ep.slice("ENTRYPOINT".length));
        } catch {
          errors.push("ENTRYPOINT exec form is not valid JSON");
        }
      }
      const user = lines.filter((l) => /^USER\s/.test(l)).pop();
      if (!user || /^USER\s+(root|0)(:|\s|$)/.test(user)) errors.push("must switch to a non-root USER");
      if (!/QUARKUS_HTTP_HOST=0\.0\.0\.0/.test(text)) errors.push("must set QUARKUS_HTTP_HOST=0.0.0.0 (a container's port is reached from outside it)");
      for (const l of lines.filter((x) => /^ARG\s+PYTORCH_VERSION=/.test(x))) if (l.split("=")[1] !== pytorch) errors.push(`${l}: pom.xml's pytorch.version is ${pytorch}`);
      return errors;
    });
    const ignore = `${file}.dockerignore`;
    check(`${rel(ignore)}: context limited to target/quarkus-app`, () => {
      if (!fs.existsSync(ignore)) return ["missing"];
      const pats = patterns(ignore);
      const errors = [];
      if (pats[0] !== "*") errors.push("first pattern must be '*'");
      if (!pats.some((p) => /^!target\/quarkus-app\/?\*?$/.test(p))) errors.push("must re-include target/quarkus-app");
      return errors;
    });
  }
  check(".dockerignore (repository root): excludes everything but the modules' target/quarkus-app", () => {
    const f = path.join(root, ".dockerignore");
    if (!fs.existsSync(f)) return ["missing"];
    const pats = patterns(f);
    const errors = [];
    if (pats[0] !== "*") errors.push("first pattern must be '*'");
    if (!pats.some((p) => /^!\*\/target\/quarkus-app\/?$/.test(p))) errors.push("must re-include */target/quarkus-app");
    return errors;
  });
}
