"""Retrieval quality: dense only, BM25 only and hybrid, on two sets.

1. The Rijksoverheid FAQ dev set (eval/faq-dev.jsonl over eval/faq/): doc-level
   recall@5 and MRR.
2. "Which article gives the mayor power X" (eval/wetten-burgemeester.jsonl) over six
   safety-related statutes plus distractor statutes: the right article must come
   first, so hit@1 at article level and MRR.
3. Questions that name the article ("Wat regelt artikel 13b van de Opiumwet?",
   eval/wetten-artikelen.jsonl) over the same statutes, same measures.

Each keyword analyser variant (stemmer, compound splitting) is measured by rebuilding
only the keyword index over the same stored chunks. Usage:

    python benchmarks/retrieval_quality.py [--distractors 14] [--out benchmarks/results]
        [--stores DIR]   # keep the stores there; a second run only re-ingests changes
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.evaluation.dataset import EvalItem, load_dataset
from assistant.retrieval import Retriever
from assistant.settings import REPO_ROOT, Settings
from assistant.store import Store
from ingest.pipeline import ingest_paths

STATUTES = REPO_ROOT.parent / "shared" / "corpora" / "nl-wetten-2017"
SAFETY_LAWS = ["BWBR0001941", "BWBR0005416", "BWBR0013798", "BWBR0031788", "BWBR0027466",
               "BWBR0004318"]  # fmt: skip
VARIANTS = [("dutch_porter", True), ("dutch_porter", False), ("dutch", True), ("dutch", False)]
MODES = ("dense", "keyword", "hybrid")


def article_of(section: str) -> str:
    """The last 'Artikel N' of a section path, normalised ('Artikel 13b')."""
    found = re.findall(r"artikel\s+([0-9]+[a-z]*)", section, flags=re.IGNORECASE)
    return f"Artikel {found[-1].lower()}" if found else ""


def is_hit(passage, item: EvalItem, level: str) -> bool:
    for src in item.sources:
        if passage.chunk.doc_id != src.doc_id:
            continue
        if level == "doc" or not src.section:
            return True
        if article_of(passage.chunk.section) == article_of(src.section):
            return True
    return False


def score(retriever: Retriever, items: list[EvalItem], mode: str, level: str) -> dict[str, float]:
    hits1 = hits5 = rr = 0.0
    latencies = []
    for item in items:
        t = time.perf_counter()
        passages = retriever.search(item.question, k=10, mode=mode)
        latencies.append(time.perf_counter() - t)
        ranks = [i for i, p in enumerate(passages, start=1) if is_hit(p, item, level)]
        if ranks:
            hits1 += ranks[0] == 1
            hits5 += ranks[0] <= 5
            rr += 1.0 / ranks[0]
    n = len(items)
    latencies.sort()
    return {"hit@1": hits1 / n, "recall@5": hits5 / n, "mrr": rr / n,
            "p50_ms": 1000 * latencies[n // 2]}  # fmt: skip


def distractors(count: int) -> list[Path]:
    rows = (STATUTES / "index.tsv").read_text(encoding="utf-8").splitlines()[1:]
    picked = [r.split("\t")[0] for r in rows if 20_000 < int(r.split("\t")[3]) < 60_000]
    picked = [p for p in picked if p not in SAFETY_LAWS]
    step = max(1, len(picked) // max(count, 1))
    return [STATUTES / f"{p}.md" for p in picked[::step][:count]]


def evaluate(
    name: str,
    paths: list[Path],
    dataset: Path,
    level: str,
    root: Path,
    variants: list[tuple[str, bool]] = VARIANTS,
    weights: tuple[float, ...] = (),
) -> dict:
    settings = Settings(store_dir=root / name)
    report = ingest_paths(paths, settings)
    assert report.ok, report.failed
    items = [i for i in load_dataset(dataset) if i.answerable]
    chunks = Store(settings).count_chunks()
    out: dict = {"chunks": chunks, "questions": len(items), "results": {}}
    for stemmer, compounds in variants:
        variant = settings.model_copy(
            update={"keyword_stemmer": stemmer, "keyword_compounds": compounds}
        )
        store = Store(variant)  # rebuilds the keyword index for this analyser
        retriever = Retriever(variant, store)
        label = f"{stemmer}{'+compounds' if compounds else ''}"
        for mode in MODES:
            if mode == "dense" and out["results"].get("dense"):
                continue
            key = "dense" if mode == "dense" else f"{mode}/{label}"
            out["results"][key] = score(retriever, items, mode, level)
        # The BM25 list's weight in the fusion (the dense list's is 1), the same for every
        # question; the default raises it for questions that name an article.
        for w in weights:
            fixed = variant.model_copy(update={"keyword_weight": w, "keyword_weight_reference": w})
            out["results"][f"hybrid/{label}/fixed-bm25-weight={w:g}"] = score(
                Retriever(fixed, store), items, "hybrid", level
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distractors", type=int, default=14)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--weights",
        default="0.25,0.5,0.75",
        help="BM25 weights in the fusion to compare with 1 (comma-separated; '' for none)",
    )
    parser.add_argument(
        "--default-analyser-only", action="store_true", help="skip the other analysers"
    )
    parser.add_argument("--stores", type=Path, help="keep the stores in this folder")
    args = parser.parse_args()
    weights = tuple(float(w) for w in args.weights.split(",") if w.strip())
    current = Settings()
    variants = (
        [(current.keyword_stemmer, current.keyword_compounds)]
        if args.default_analyser_only
        else VARIANTS
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = args.stores or Path(tmp)
        results["faq"] = evaluate("faq", [REPO_ROOT / "eval" / "faq"],
                                  REPO_ROOT / "eval" / "faq-dev.jsonl", "doc", root,
                                  variants, weights)  # fmt: skip
        laws = [STATUTES / f"{d}.md" for d in SAFETY_LAWS] + distractors(args.distractors)
        results["statutes"] = evaluate("statutes", laws,
                                       REPO_ROOT / "eval" / "wetten-burgemeester.jsonl",
                                       "section", root, variants, weights)  # fmt: skip
        results["statute_references"] = evaluate(
            "statutes", laws, REPO_ROOT / "eval" / "wetten-artikelen.jsonl", "section", root,
            variants, weights,
        )  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "retrieval_quality.json").write_text(json.dumps(results, indent=2) + "\n")
    for name, res in results.items():
        print(f"\n{name}: {res['questions']} questions over {res['chunks']} chunks")
        print(f"{'mode':44} {'hit@1':>6} {'rec@5':>6} {'MRR':>6} {'p50 ms':>7}")
        for key, m in res["results"].items():
            print(f"{key:44} {m['hit@1']:6.3f} {m['recall@5']:6.3f} {m['mrr']:6.3f} "
                  f"{m['p50_ms']:7.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
