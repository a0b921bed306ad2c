#!/usr/bin/env bash
# Offline checks of the deployment files (no Docker engine, no cluster needed):
#   - docker-compose.yml and docker-compose.yml + docker-compose.gpu.yml: `docker-compose config -q` (v1.29.2,
#     Debian's package), then the checks of .ci/deploy-check/check.mjs on the resolved configuration;
#   - the three Dockerfile.jvm and the .dockerignore files;
#   - deploy/: every overlay rendered (kustomize-lite always; `kubectl kustomize` / `kustomize build` too when a
#     kustomize v4+ is installed, and both must agree), every object schema-checked (kubernetes-models,
#     @kubernetes-models/keda, hand-written Strimzi v1 schemas), references and the topic contract checked.
# The settings these files give the services (names, values, allowed values) are checked against the services' code by
# e2e-tests' DeploymentDefaultsTest, not here.
#
# Installs what it needs only when missing: docker-compose (apt, always --no-install-recommends: without it apt
# pulls a Docker engine) and the npm packages into .ci/node_modules (git-ignored). Idempotent; run as root.
# Usage: .ci/check-deploy.sh        Exit status: 0 when every check passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CI_DIR="$ROOT/.ci"
NPM_PACKAGES=(yaml@2.9.1 kubernetes-models@5.1.0 @kubernetes-models/keda@2.0.0)

log() { printf '%s\n' "$*"; }
die() { printf 'check-deploy: %s\n' "$*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------------------------------------
command -v node >/dev/null || die "node is required (Node 20+)"
command -v npm >/dev/null || die "npm is required"

if ! command -v docker-compose >/dev/null; then
  command -v apt-get >/dev/null || die "docker-compose is missing and apt-get is not available"
  log "Installing docker-compose (Debian package, --no-install-recommends: no Docker engine)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
  fi
fi
DC_VERSION="$(docker-compose version --short 2>/dev/null || docker-compose --version)"

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

# A kustomize v4+ to cross-check kustomize-lite, when the machine has one (Debian's kubectl 1.20 bundles v2: unused).
KUSTOMIZE=""
kustomize_major() { sed -n 's/.*v\([0-9][0-9]*\)\..*/\1/p' | head -n1; }
if command -v kustomize >/dev/null && [[ "$(kustomize version 2>/dev/null | kustomize_major)" -ge 4 ]] 2>/dev/null; then
  KUSTOMIZE="kustomize build"
elif command -v kubectl >/dev/null && [[ "$(kubectl version --client 2>/dev/null | grep -i kustomize | kustomize_major)" -ge 4 ]] 2>/dev/null; then
  KUSTOMIZE="kubectl kustomize"
fi

log "check-deploy: node $(node --version), docker-compose $DC_VERSION, kustomize: ${KUSTOMIZE:-kustomize-lite only}"

# --- docker-compose config ------------------------------------------------------------------------------------
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$ROOT"
# Each run's stderr goes to a file that check.mjs reports as a check (empty file: passed).
dc_config() { # OUT ERR FILES...
  local out="$1" err="$2"; shift 2
  local f=() x
  for x in "$@"; do f+=(-f "$x"); done
  if docker-compose "${f[@]}" config -q 2>"$err"; then
    docker-compose "${f[@]}" config >"$out" 2>"$err" || true
  else
    [[ -s "$err" ]] || echo "docker-compose config failed" >"$err"
  fi
}
dc_config "$TMP/compose.yml" "$TMP/compose.err" docker-compose.yml
dc_config "$TMP/compose-gpu.yml" "$TMP/compose-gpu.err" docker-compose.yml docker-compose.gpu.yml

# --- everything else ------------------------------------------------------------------------------------------
args=(--root "$ROOT"
  --external "docker-compose -f docker-compose.yml config -q::$TMP/compose.err"
  --external "docker-compose -f docker-compose.yml -f docker-compose.gpu.yml config -q::$TMP/compose-gpu.err")
[[ -s "$TMP/compose.yml" ]] && args+=(--compose-config "$TMP/compose.yml")
[[ -s "$TMP/compose-gpu.yml" ]] && args+=(--compose-gpu-config "$TMP/compose-gpu.yml")
[[ -n "$KUSTOMIZE" ]] && args+=(--kustomize "$KUSTOMIZE")
exec node "$CI_DIR/deploy-check/check.mjs" "${args[@]}"
