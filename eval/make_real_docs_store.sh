#!/usr/bin/env bash
# Build the store that eval/real-docs.jsonl is measured on: exactly the five real PDFs in
# ../shared/corpora/real-pdfs and the case PDFs in ../shared/cases (never their READMEs),
# with an empty corpus folder so that corpus/ does not slip into the index.
# Usage: eval/make_real_docs_store.sh STORE_DIR [extra `ivb ingest` options]
# Then:  ivb eval eval/real-docs.jsonl --llm extractive --store STORE_DIR --out OUT_DIR
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "gebruik: $0 STORE_MAP [opties voor ivb ingest]" >&2
  exit 2
fi
store="$1"
shift
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="${IVB_SHARED_DIR:-$repo/../shared}"
py="${PYTHON:-$repo/.venv/bin/python}"
[ -x "$py" ] || py=python3
shopt -s nullglob
pdfs=("$shared"/corpora/real-pdfs/*.pdf "$shared"/cases/*/*.pdf)
if [ ${#pdfs[@]} -eq 0 ]; then
  echo "geen PDF's gevonden onder $shared" >&2
  exit 2
fi
corpus="$(mktemp -d)"
trap 'rmdir "$corpus"' EXIT
cd "$repo"
IVB_CORPUS_DIR="$corpus" "$py" -m assistant ingest "${pdfs[@]}" --store "$store" "$@"
