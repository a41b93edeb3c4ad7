"""Calibrate the refusal thresholds on dev material (retrieval only, no generation).

One store holds the IVB corpus and the Rijksoverheid FAQ corpus. Answerable: the
FAQ dev questions and the answerable IVB gold questions. Unanswerable: the IVB gold
set's unanswerable questions and the statute questions (no statute is in this store).
For every question the best passage's similarity and the content-word coverage are
computed once; a grid search then picks (refusal_threshold, confident_threshold,
min_coverage) with the best balanced accuracy. Usage:

    python benchmarks/calibrate_refusal.py [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answerability import coverage, refusal_reason, unknown_terms
from assistant.evaluation.dataset import load_dataset
from assistant.guard import is_injection
from assistant.language import detect
from assistant.service import get_service
from assistant.settings import REPO_ROOT, Settings
from ingest.pipeline import ingest_paths

EVAL = REPO_ROOT / "eval"
MAX_FALSE_REFUSAL = 0.05
STEP = 0.04  # how far a neighbouring setting lies, for the robustness check
CURRENT = Settings()


def questions() -> list[tuple[str, bool, str]]:
    """(question, answerable, set name); follow-ups and injections left out."""
    out = []
    for item in load_dataset(EVAL / "faq-dev.jsonl"):
        out.append((item.question, True, "faq"))
    for item in load_dataset(EVAL / "ivb-gold.jsonl"):
        if item.history or is_injection(item.question):
            continue
        out.append((item.question, item.answerable, "ivb"))
    for item in load_dataset(EVAL / "wetten-burgemeester.jsonl"):
        out.append((item.question, False, "statutes-absent"))
    return out


def features(store_dir: Path) -> list[dict]:
    settings = Settings(store_dir=store_dir)
    report = ingest_paths([REPO_ROOT / "corpus", EVAL / "faq"], settings)
    assert report.ok, report.failed
    service = get_service(settings)
    rows = []
    for question, answerable, name in questions():
        passages = service.retriever.search(question, k=5)
        language = detect(question)
        dense = max((p.dense_score or 0.0 for p in passages), default=0.0)
        cov, missing = coverage(question, passages) if language == "nl" else (1.0, [])
        unknown = unknown_terms(missing, service.store.document_frequency)
        rows.append({"question": question, "answerable": answerable, "set": name,
                     "dense": dense, "coverage": cov, "missing": missing,
                     "unknown": unknown})  # fmt: skip
    return rows


def decide(row: dict, settings: Settings, unknown: bool = True) -> bool:
    """True when the question is answered: answerability.refusal_reason on the saved
    features (without the unknown-word rule when `unknown` is False)."""
    words = row["unknown"] if unknown else []
    return not refusal_reason(row["dense"], row["coverage"], words, settings)


def evaluate(
    rows: list[dict], low: float, confident: float, min_cov: float, unknown: bool = True
) -> dict:
    settings = CURRENT.model_copy(
        update={"refusal_threshold": low, "confident_threshold": confident,
                "min_coverage": min_cov}
    )  # fmt: skip
    pos = [r for r in rows if r["answerable"]]
    neg = [r for r in rows if not r["answerable"]]
    answered_pos = sum(decide(r, settings, unknown) for r in pos)
    refused_neg = sum(not decide(r, settings, unknown) for r in neg)
    return {
        "refusal_accuracy": refused_neg / len(neg),
        "false_refusal_rate": 1 - answered_pos / len(pos),
        "balanced_accuracy": (refused_neg / len(neg) + answered_pos / len(pos)) / 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    parser.add_argument("--reuse", action="store_true", help="reuse the saved features")
    args = parser.parse_args()
    cache = args.out / "refusal_features.json"
    if args.reuse and cache.exists():
        rows = json.loads(cache.read_text())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            rows = features(Path(tmp) / "store")
        args.out.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    grid = list(
        itertools.product(
            [x / 100 for x in range(20, 56, 2)],
            [x / 100 for x in range(50, 81, 2)],
            [x / 10 for x in range(3, 10)],
        )
    )
    # A council member who is refused an answer the documents hold loses trust fastest:
    # among settings that refuse at most 5% of answerable questions, take the one that
    # refuses the most unanswerable ones. 176 questions leave wide plateaus, so a setting
    # is judged by its worst neighbour (each threshold moved by 0.04): a point at the edge
    # of a cliff is passed over. Ties: fewer false refusals, then the higher minimum
    # similarity (off-topic questions), then the lower confident threshold.
    scores = {g: evaluate(rows, *g) for g in grid}

    def neighbourhood(g: tuple[float, float, float]) -> list[dict]:
        low, conf, cov = g
        return [
            scores.get((round(low + a, 2), round(conf + b, 2), cov))
            or evaluate(rows, round(low + a, 2), round(conf + b, 2), cov)
            for a in (-STEP, 0.0, STEP)
            for b in (-STEP, 0.0, STEP)
        ]

    allowed = [g for g, r in scores.items() if r["false_refusal_rate"] <= MAX_FALSE_REFUSAL]
    best_g = max(
        allowed or list(scores),
        key=lambda g: (
            round(min(r["refusal_accuracy"] for r in neighbourhood(g)), 4),
            -round(max(r["false_refusal_rate"] for r in neighbourhood(g)), 4),
            round(scores[g]["refusal_accuracy"], 4),
            -round(scores[g]["false_refusal_rate"], 4),
            g[0],
            -g[1],
        ),
    )
    best = (scores[best_g], best_g)
    low, confident, min_cov = best[1]
    chosen = CURRENT.model_copy(
        update={"refusal_threshold": low, "confident_threshold": confident,
                "min_coverage": min_cov}
    )  # fmt: skip
    current = Settings()
    result = {
        "questions": {
            "answerable": sum(r["answerable"] for r in rows),
            "unanswerable": sum(not r["answerable"] for r in rows),
        },
        "chosen": {
            "refusal_threshold": low,
            "confident_threshold": confident,
            "min_coverage": min_cov,
            **evaluate(rows, low, confident, min_cov),
        },
        "current_without_unknown_terms": {
            **evaluate(
                rows,
                current.refusal_threshold,
                current.confident_threshold,
                current.min_coverage,
                unknown=False,
            ),
        },
        "current_settings": {
            "refusal_threshold": current.refusal_threshold,
            "confident_threshold": current.confident_threshold,
            "min_coverage": current.min_coverage,
            **evaluate(
                rows,
                current.refusal_threshold,
                current.confident_threshold,
                current.min_coverage,
            ),
        },
        "dense_only": max(
            (
                {"refusal_threshold": t, **evaluate(rows, t, 0.0, 0.0, unknown=False)}
                for t in [x / 100 for x in range(20, 70)]
            ),
            key=lambda r: r["balanced_accuracy"],
        ),
        "errors_at_chosen": [
            {
                k: r[k]
                for k in (
                    "set",
                    "question",
                    "answerable",
                    "dense",
                    "coverage",
                    "missing",
                    "unknown",
                )
            }
            for r in rows
            if decide(r, chosen) != r["answerable"]
        ],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "refusal_calibration.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "errors_at_chosen"}, indent=2))
    for e in result["errors_at_chosen"]:
        verdict = "refused" if e["answerable"] else "answered"
        print(f"  {verdict:8} {e['set']:16} dense={e['dense']:.3f} cov={e['coverage']:.2f} "
              f"{e['question'][:80]}")  # fmt: skip


if __name__ == "__main__":
    main()
