#!/usr/bin/env bash
# Install the dev extras, the browser, axe-core, nginx and PostgreSQL, then lint and run the whole
# test suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh "dev,local-llm,otel"
if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Debian's chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "== installing Debian's nginx-light for the scale-out test (deploy/nginx.conf)"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq nginx-light >/dev/null; fi
fi
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  # The store tests marked both_stores also run on a real PostgreSQL (tests/postgres_server.py
  # makes a throw-away cluster with initdb and starts it on loopback).
  echo "== installing Debian's postgresql for the PostgreSQL store tests"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi
fi
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  echo "== installing axe-core from npm"
  npm install --silent --prefix tests/browser axe-core@4 >/dev/null
fi
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== pytest"
mkdir -p artifacts
.venv/bin/python -m pytest "$@"
