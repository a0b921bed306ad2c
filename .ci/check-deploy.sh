#!/usr/bin/env bash
# Offline checks of the deployment files: what the booted tests cannot show. KubernetesDeploymentIT and
# ComposeDeploymentIT (e2e-tests) run the services as local processes with exactly the configuration the rendered
# overlays and docker-compose.yml give them (environment, Secrets, users and ACLs, topics, probes, replicas), so the
# settings, the topic table, the Kafka security and who mounts which key are tested there, by running them. What needs
# a container engine or a cluster is checked here, with no engine and no cluster (.ci/deploy-check/check.mjs):
#   - each service module's Dockerfile.jvm and the .dockerignore files (a JRE of pom.xml's Java release, the port of
#     the module's application.properties, non-root);
#   - docker-compose.yml and docker-compose.yml + docker-compose.gpu.yml: `docker-compose config -q` (v1.29.2,
#     Debian's package, or `docker compose` v2), then the images (built from the service modules, Kafka at pom.xml's
#     kafka.version), ports published on 127.0.0.1 and equal to the services', the names the compose network
#     resolves, start conditions and the GPU reservation;
#   - deploy/: every overlay rendered by the real kustomize (`kubectl kustomize`, kustomize 5.x in kubectl 1.27+, or a
#     standalone `kustomize build` v4+), every object schema-checked (kubernetes-models, @kubernetes-models/keda,
#     hand-written Strimzi v1 schemas, unknown fields included), images and tags, cpu/memory requests and limits,
#     the references only a cluster resolves (Secrets and their keys, ConfigMaps, PVCs, ServiceAccounts, Service
#     selectors and ports, autoscaler targets, Strimzi's Secrets, bootstrap Service, operators and node pools, the
#     namespace), pod security.
# Allowed values come from the repository (pom.xml, application.properties, docker-compose.yml, deploy/README.md).
#
# A missing tool is a SKIP, printed loudly, not a failure: `./mvnw verify` runs this on every machine that builds the
# project, and a new user's machine without kubectl (or without docker-compose and root to install it) must still
# build: Kubernetes tooling is no build requirement, and the booted tests run either way. Where the checks must run
# (a release or CI machine), DEPLOY_CHECK_STRICT=true makes any skip fail.
#
# Installs what it needs only when missing: docker-compose (apt, when run as root, always --no-install-recommends:
# without it apt pulls a Docker engine) and the npm packages into .ci/node_modules (git-ignored). Idempotent.
# Usage: .ci/check-deploy.sh        Exit status: 0 when every check that ran passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CI_DIR="$ROOT/.ci"
NPM_PACKAGES=(yaml@2.9.1 kubernetes-models@5.1.0 @kubernetes-models/keda@2.0.0)

log() { printf '%s\n' "$*"; }
die() { printf 'check-deploy: %s\n' "$*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------------------------------------
command -v node >/dev/null || die "node is required (Node 20+)"
command -v npm >/dev/null || die "npm is required"

STRICT="${DEPLOY_CHECK_STRICT:-false}"
SKIPS=()

# docker-compose v1 (Debian's package, installed here as root when missing) or the `docker compose` v2 plugin.
DC=()
if command -v docker-compose >/dev/null; then
  DC=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  DC=(docker compose)
elif [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  log "Installing docker-compose (Debian package, --no-install-recommends: no Docker engine)"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; }; then
    DC=(docker-compose)
  fi
fi
if ((${#DC[@]})); then
  DC_VERSION="$("${DC[@]}" version --short 2>/dev/null || "${DC[@]}" version | head -n1)"
else
  DC_VERSION="none"
  SKIPS+=("docker-compose config -q: no docker-compose or \`docker compose\` on this machine (nor installable here): the compose files were NOT validated by docker-compose; the checks below read them as YAML")
fi

npm_ok() {
  local spec name version file
  for spec in "${NPM_PACKAGES[@]}"; do
    name="${spec%@*}"
    version="${spec##*@}"
    file="$CI_DIR/node_modules/$name/package.json"
    [[ -f "$file" ]] || return 1
    node -e 'const p=require(process.argv[1]); process.exit(p.version===process.argv[2]?0:1)' "$file" "$version" || return 1
  done
}
if ! npm_ok; then
  log "Installing npm packages into .ci/node_modules: ${NPM_PACKAGES[*]}"
  # kubernetes-models declares engines node>=22; it runs on Node 20 (checked), so the engine warning is silenced.
  npm install --prefix "$CI_DIR" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "${NPM_PACKAGES[@]}"
  npm_ok || die "npm packages did not install"
fi

# The real kustomize, v4+ (older ones, e.g. the v2 in Debian's kubectl 1.20, do not know components): kubectl's
# built-in one (kubectl 1.21+ bundles v4, 1.27+ v5) or a standalone binary.
KUSTOMIZE=""
kustomize_major() { sed -n 's/.*v\([0-9][0-9]*\)\..*/\1/p' | head -n1; }
if command -v kubectl >/dev/null && [[ "$(kubectl version --client 2>/dev/null | grep -i kustomize | kustomize_major)" -ge 4 ]] 2>/dev/null; then
  KUSTOMIZE="kubectl kustomize"
elif command -v kustomize >/dev/null && [[ "$(kustomize version 2>/dev/null | kustomize_major)" -ge 4 ]] 2>/dev/null; then
  KUSTOMIZE="kustomize build"
fi

log "check-deploy: node $(node --version), docker-compose $DC_VERSION, kustomize: ${KUSTOMIZE:-none (overlays not rendered)}"

# --- docker-compose config ------------------------------------------------------------------------------------
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$ROOT"
# Each run's stderr goes to a file that check.mjs reports as a check (empty file: passed).
dc_config() { # OUT ERR FILES...
  local out="$1" err="$2"; shift 2
  local f=() x
  for x in "$@"; do f+=(-f "$x"); done
  if "${DC[@]}" "${f[@]}" config -q 2>"$err"; then
    "${DC[@]}" "${f[@]}" config >"$out" 2>"$err" || true
  else
    [[ -s "$err" ]] || echo "docker-compose config failed" >"$err"
  fi
}
args=(--root "$ROOT")
if ((${#DC[@]})); then
  dc_config "$TMP/compose.yml" "$TMP/compose.err" docker-compose.yml
  dc_config "$TMP/compose-gpu.yml" "$TMP/compose-gpu.err" docker-compose.yml docker-compose.gpu.yml
  args+=(--external "${DC[*]} -f docker-compose.yml config -q::$TMP/compose.err"
    --external "${DC[*]} -f docker-compose.yml -f docker-compose.gpu.yml config -q::$TMP/compose-gpu.err")
  [[ -s "$TMP/compose.yml" ]] && args+=(--compose-config "$TMP/compose.yml")
  [[ -s "$TMP/compose-gpu.yml" ]] && args+=(--compose-gpu-config "$TMP/compose-gpu.yml")
fi

# --- everything else ------------------------------------------------------------------------------------------
for s in "${SKIPS[@]}"; do args+=(--skip "$s"); done
[[ -n "$KUSTOMIZE" ]] && args+=(--kustomize "$KUSTOMIZE")
[[ "$STRICT" == true ]] && args+=(--strict)
exec node "$CI_DIR/deploy-check/check.mjs" "${args[@]}"
