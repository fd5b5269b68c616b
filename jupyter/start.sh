#!/usr/bin/env bash
# `npm run lab` (JupyterLab) and `npm run jupyter` (Notebook 7): starts the server from the
# project's Python environment (.venv, made by scripts/install.sh) on the notebooks/ folder,
# listening on loopback only, with token authentication (Jupyter's default: the URL with the
# token is printed), and with the project's tslab kernel and config (.jupyter/, made by
# scripts/setup-jupyter.sh). Extra arguments go to Jupyter: `npm run lab -- --port=8890`;
# `--notebook-dir=DIR` (or `--ServerApp.root_dir=DIR`) serves another folder instead.
#
# The server replaces this shell (exec), so Ctrl-C in the terminal and a SIGTERM that npm
# forwards to its script both reach Jupyter itself, which then shuts its kernels down.
# Usage: jupyter/start.sh lab|notebook [jupyter args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app="${1:-lab}"
shift || true
case "$app" in
  lab) name="JupyterLab" ;;
  notebook) name="Jupyter Notebook 7" ;;
  *)
    echo "usage: jupyter/start.sh lab|notebook [jupyter args...]" >&2
    exit 2
    ;;
esac

server="$root/.venv/bin/jupyter-$app"
if [ ! -x "$server" ]; then
  echo "$name is not installed: $server is missing. Run bash scripts/install.sh (it makes the project's Python environment .venv from jupyter/requirements.txt), then npm run ${app/notebook/jupyter} again." >&2
  exit 1
fi
kernelspec="$root/.jupyter/share/jupyter/kernels/tslab/kernel.json"
# (Re-)register the kernel when it is missing or points into another checkout.
if ! grep -qF "\"$root/scripts/tslab-kernel\"" "$kernelspec" 2>/dev/null ||
  [ ! -f "$root/.jupyter/etc/jupyter/jupyter_server_config.json" ]; then
  bash "$root/scripts/setup-jupyter.sh"
fi

export JUPYTER_PATH="$root/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export JUPYTER_CONFIG_PATH="$root/.jupyter/etc/jupyter${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
# The notebooks folder, unless the arguments name another (Jupyter takes only one).
dir_given=no
for arg in "$@"; do
  case "$arg" in --notebook-dir=* | --*.root_dir=* | --*.notebook_dir=*) dir_given=yes ;; esac
done
if [ "$dir_given" = no ]; then set -- --ServerApp.root_dir="$root/notebooks" "$@"; fi
# Jupyter refuses to run as root unless told to (containers and CI machines run as root).
if [ "$(id -u)" -eq 0 ]; then set -- --allow-root "$@"; fi
exec "$server" --ServerApp.ip=127.0.0.1 "$@"
