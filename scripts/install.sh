#!/usr/bin/env bash
# Installs everything the project needs on a Debian 12 machine with Node 20:
# system packages (headless Chromium for figures and PDFs, Jupyter Notebook and nbconvert
# for the tslab kernel, poppler for PDF checks, numpy for the reference benchmark, clang
# and lld for the WebAssembly training kernel), the
# npm dependencies from the lock file, the lib build, and the project-local Jupyter setup.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

APT_PACKAGES=(chromium jupyter-notebook jupyter-nbconvert python3-nbclient python3-numpy poppler-utils clang lld)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install: apt packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install: apt packages present"
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" != "20" ]; then
  echo "install: this project is pinned to Node 20 (.nvmrc); found $(node --version)" >&2
  exit 1
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install: npm ci"
  npm ci --no-audit --no-fund
else
  echo "install: node_modules up to date"
fi

npx tsc -b lib
node scripts/build-wasm.mjs --required
bash scripts/setup-jupyter.sh
