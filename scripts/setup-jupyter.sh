#!/usr/bin/env bash
# Registers the tslab kernelspec "tslab" (TypeScript) in the project-local prefix .jupyter/
# (git-ignored), launched through scripts/tslab-kernel (which rebuilds lib/ first) and run
# under the project's Python environment .venv (made by scripts/install.sh). Nothing goes
# into the home directory. Jupyter finds the kernel with
#   JUPYTER_PATH=$root/.jupyter/share/jupyter
# which `npm run lab` and `npm run jupyter` set (README: "The kernel elsewhere"). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.jupyter"
python="$root/.venv/bin/python"

if [ ! -x "$python" ] || ! "$python" -c "import jupyter_client" 2>/dev/null; then
  echo "setup-jupyter: the project's Python environment has no Jupyter ($python): run bash scripts/install.sh" >&2
  exit 1
fi
if [ ! -x "$root/node_modules/.bin/tslab" ]; then
  echo "setup-jupyter: tslab is not installed ($root/node_modules/.bin/tslab): run bash scripts/install.sh" >&2
  exit 1
fi

"$root/node_modules/.bin/tsc" -b "$root/lib"
"$root/node_modules/.bin/tslab" install --python="$python" --binary="$root/scripts/tslab-kernel" --prefix="$prefix" >/dev/null

# Server config for `npm run lab` / `npm run jupyter` (JUPYTER_CONFIG_PATH=.jupyter/etc/jupyter):
# File > Save and Export Notebook As offers nbconvert's exporters. WebPDF needs Playwright's
# own Chromium and Qtpdf/Qtpng need PyQt, which this install does not have: the menu offers
# the LaTeX "PDF" (and the other formats that work) only.
mkdir -p "$prefix/etc/jupyter"
cat > "$prefix/etc/jupyter/jupyter_server_config.json" <<JSON
{
  "WebPDFExporter": { "enabled": false },
  "QtPDFExporter": { "enabled": false },
  "QtPNGExporter": { "enabled": false }
}
JSON

# Left over from the classic Notebook 6.4 setup (its plotly nbextension and the nbconfig
# enabling it); JupyterLab and Notebook 7 render plotly through plotly's own extension.
rm -rf "$prefix/share/jupyter/nbextensions" "$prefix/etc/jupyter/nbconfig"

echo "setup-jupyter: kernelspec tslab and server config installed under $prefix"
