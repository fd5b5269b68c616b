#!/usr/bin/env bash
# The test job: install everything, then unit tests, integration tests and every notebook
# executed headless in the quick profile (see scripts/test.mjs).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install.sh
npm test
