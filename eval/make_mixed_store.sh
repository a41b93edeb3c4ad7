#!/usr/bin/env bash
# Build the mixed store that eval/mixed-dev.jsonl (and the refusal calibration) is measured
# on: one index with the IVB briefing (corpus/), the real PDFs (../shared/corpora/real-pdfs
# and the case PDFs in ../shared/cases), one statute of the statute sets (the Opiumwet,
# ../shared/corpora/nl-wetten-2017/BWBR0001941.md: on the shared 2-core machine, at load
# 20-25, embedding the other five safety statutes would have taken most of an hour) and the
# Rijksoverheid FAQ (eval/faq). An empty corpus folder keeps the first-start
# ingest out of it.
# Usage: eval/make_mixed_store.sh STORE_DIR [extra `ivb ingest` options]
# Then:  ivb eval eval/mixed-dev.jsonl --llm extractive --store STORE_DIR --out OUT_DIR
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
statutes=()
for id in BWBR0001941; do
  statutes+=("$shared/corpora/nl-wetten-2017/$id.md")
done
if [ ${#pdfs[@]} -eq 0 ] || [ ! -f "${statutes[0]}" ]; then
  echo "geen PDF's of wetten gevonden onder $shared" >&2
  exit 2
fi
corpus="$(mktemp -d)"
trap 'rmdir "$corpus"' EXIT
cd "$repo"
IVB_CORPUS_DIR="$corpus" "$py" -m assistant ingest corpus eval/faq "${pdfs[@]}" "${statutes[@]}" \
  --store "$store" "$@"
