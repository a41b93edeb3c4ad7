#!/usr/bin/env bash
# Install everything and start the web chat on the embedded defaults.
# An empty store is filled from corpus/ first. Extra arguments go to `ivb serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh local-llm
exec .venv/bin/ivb serve "$@"
