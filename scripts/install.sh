#!/usr/bin/env bash
# Installs everything the project needs on a Debian 12 machine with Node 20:
# system packages (headless Chromium for figures, PDFs and the browser tests; XeLaTeX and
# pandoc for nbconvert's PDF export, which JupyterLab's File > Save and Export Notebook As >
# PDF runs; poppler for PDF checks; python3-venv for the project's Python environment; numpy
# for the reference benchmark; clang and lld for the WebAssembly training kernel), the npm
# dependencies from the lock file, the Python environment .venv (JupyterLab, Notebook 7,
# nbconvert, plotly), the lib build, and the tslab kernel registered in .jupyter/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

APT_PACKAGES=(chromium python3-numpy python3-venv poppler-utils clang lld
  texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc)

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

# The project's Python environment: JupyterLab, Notebook 7, nbconvert, plotly's renderer, and
# the current numpy and PyTorch for the benchmarks and parity tests, all pinned. --retries 0:
# where an index is configured beside an unreachable PyPI, pip otherwise waits out retries.
if [ ! -x .venv/bin/python ] || ! cmp -s jupyter/requirements.txt .venv/requirements.txt; then
  echo "install: Python environment .venv (jupyter/requirements.txt)"
  /usr/bin/python3 -m venv .venv
  .venv/bin/pip install --quiet --retries 0 --disable-pip-version-check -r jupyter/requirements.txt
  cp jupyter/requirements.txt .venv/requirements.txt
else
  echo "install: Python environment .venv up to date"
fi

npx tsc -b lib tools
node scripts/build-wasm.mjs --required
bash scripts/setup-jupyter.sh
