#!/usr/bin/env bash
# The main job: install everything, execute every notebook in the full profile (outputs
# written back into notebooks/), and export the report PDFs to build/report/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install.sh
npm run report
