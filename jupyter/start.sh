#!/usr/bin/env bash
# Starts Jupyter on the notebooks with the project-local kernelspec, nbextension and config
# (.jupyter/, made by scripts/setup-jupyter.sh). Usage: jupyter/start.sh notebook|lab [args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app="${1:-notebook}"
shift || true
if ! command -v jupyter >/dev/null 2>&1; then
  echo "jupyter is not installed: run bash scripts/install.sh, or sudo apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient" >&2
  exit 1
fi
[ -f "$root/.jupyter/share/jupyter/kernels/tslab/kernel.json" ] || bash "$root/scripts/setup-jupyter.sh"
# Jupyter refuses to run as root unless told to (containers and CI machines run as root).
if [ "$(id -u)" -eq 0 ]; then set -- --allow-root "$@"; fi
export JUPYTER_PATH="$root/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export JUPYTER_CONFIG_PATH="$root/.jupyter/etc/jupyter${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
case "$app" in
  notebook)
    exec jupyter notebook --notebook-dir="$root/notebooks" "$@"
    ;;
  lab)
    if ! jupyter lab --version >/dev/null 2>&1; then
      cat >&2 <<MSG
JupyterLab is not installed (Debian has no package for it). Install it with pip, together
with plotly's JupyterLab renderer for the interactive figures:
    python3 -m pip install --user jupyterlab plotly
then run \`npm run lab\` again. Classic Notebook works now: \`npm run jupyter\`.
MSG
      exit 1
    fi
    exec jupyter lab --notebook-dir="$root/notebooks" "$@"
    ;;
  *)
    echo "usage: jupyter/start.sh notebook|lab [jupyter args...]" >&2
    exit 2
    ;;
esac
