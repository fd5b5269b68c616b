#!/usr/bin/env bash
# Installs the project's Jupyter pieces into the project-local prefix .jupyter/ (git-ignored):
#  - the tslab kernelspec "tslab", launched through scripts/tslab-kernel (rebuilds lib/ first);
#  - the classic-Notebook nbextension plotly-mime (renders plotly figures, plotly.js served locally);
#  - an nbconfig enabling it.
# Use with: JUPYTER_PATH=$root/.jupyter/share/jupyter JUPYTER_CONFIG_PATH=$root/.jupyter/etc/jupyter
# (npm run jupyter / npm run lab set these). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.jupyter"
share="$prefix/share/jupyter"
etc="$prefix/etc/jupyter"

if [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c "import jupyter_client" 2>/dev/null; then
  echo "setup-jupyter: /usr/bin/python3 has no Jupyter. Install it: sudo apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient" >&2
  exit 1
fi

"$root/node_modules/.bin/tsc" -b "$root/lib"
"$root/node_modules/.bin/tslab" install --python=/usr/bin/python3 --binary="$root/scripts/tslab-kernel" --prefix="$prefix" >/dev/null

ext="$share/nbextensions/plotly-mime"
mkdir -p "$ext"
cp "$root/jupyter/nbextension/plotly-mime/main.js" "$ext/main.js"
cp "$root/node_modules/plotly.js-dist-min/plotly.min.js" "$ext/plotly.min.js"

mkdir -p "$etc/nbconfig"
cat > "$etc/nbconfig/notebook.json" <<JSON
{
  "load_extensions": {
    "plotly-mime/main": true
  }
}
JSON

echo "setup-jupyter: kernelspec tslab, nbextension plotly-mime and nbconfig installed under $prefix"
