"""Make the FAQ corpus (eval/faq/) and gold set (eval/faq-dev.jsonl) from the shared file.

    python eval/make_faq_set.py [SRC_JSONL] [--corpus DIR] [--dataset FILE] [--limit N]

Defaults: ../shared/corpora/rijksoverheid-faq/faq-dev.jsonl → eval/faq/ + eval/faq-dev.jsonl.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation.faq import convert_faq  # noqa: E402

DEFAULT_SRC = ROOT.parent / "shared" / "corpora" / "rijksoverheid-faq" / "faq-dev.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--corpus", type=Path, default=ROOT / "eval" / "faq")
    parser.add_argument("--dataset", type=Path, default=ROOT / "eval" / "faq-dev.jsonl")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    corpus, dataset = convert_faq(args.src, args.corpus, args.dataset, limit=args.limit)
    count = sum(1 for _ in corpus.glob("*.md"))
    print(f"{count} documenten in {corpus}; gouden set: {dataset}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
