"""Calibrate the refusal thresholds on the mixed dev set, by cross-validation.

One store mixes the IVB briefing, the real PDFs, six statutes and the FAQ
(eval/make_mixed_store.sh); eval/mixed-dev.jsonl asks about all of them, with 87
unanswerable questions, 66 of them of the hard kind (the topic is in the documents, the
asked-for value is not). For every question (follow-ups and injection attempts left out:
the guard and the condensing decide those) the evidence is computed once, exactly as the
pipeline computes it: the best passage's similarity and the content-word coverage
(answerability.py), the words no chunk holds, the sentences the pipeline chooses
(extractive.select_sentences, with the embedding model), whether they hold the kind of
value asked (answer_kinds.answers_kind), how well a value is attached to the question's
subject (extractive.best_attachment, exactly what the pipeline refuses on) and whether
their chunks name any of the question's names (answerability.unanswered_names). None of
these depends on a threshold, so the grid search reuses them.

The rule that picks a setting is the one this script always used: at most 5% false
refusals, then the most unanswerable questions refused, each setting judged by its worst
neighbour (similarity thresholds moved by 0.04, the attachment floor by 0.1), so that a
point at the edge of a cliff is passed over. It is applied by 5-fold cross-validation
(folds stratified by collection and answerability): each fold is decided by the setting
chosen on the other four, and the held-out decisions are reported per question kind and
per collection. The shipped setting is the one the rule chooses on all questions. Usage:

    eval/make_mixed_store.sh /tmp/mixed-store
    python benchmarks/calibrate_refusal.py --store /tmp/mixed-store [--reuse]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answer_kinds import answers_kind
from assistant.answerability import (
    coverage,
    refusal_reason,
    unanswered_names,
    unknown_asked,
    unknown_names,
    unknown_terms,
)
from assistant.evaluation.dataset import load_dataset
from assistant.extractive import answer_scope, best_attachment, select_sentences
from assistant.question import Question
from assistant.settings import REPO_ROOT, Settings

EVAL = REPO_ROOT / "eval"
MAX_FALSE_REFUSAL = 0.05
STEP = 0.04  # how far a neighbouring similarity threshold lies
ATTACH_STEP = 0.1  # how far a neighbouring attachment floor lies
FOLDS = 5
CURRENT = Settings()
GRID_LOW = [x / 100 for x in range(20, 60, 4)]
GRID_CONFIDENT = [x / 100 for x in range(40, 85, 4)]
GRID_COVERAGE = [x / 10 for x in range(3, 10)]
GRID_ATTACH = [x / 10 for x in range(0, 9)]


def questions(dataset: Path) -> list[dict]:
    """The questions the evidence decides: follow-ups and injection attempts left out."""
    rows = []
    for item in load_dataset(dataset):
        if item.history or item.is_injection:
            continue
        tags = item.tags
        collection = next((t.split(":", 1)[1] for t in tags if t.startswith("collection:")), "-")
        rows.append({"id": item.id, "question": item.question, "answerable": item.answerable,
                     "collection": collection,
                     "hard": "unanswerable-hard" in tags})  # fmt: skip
    return rows


def features(rows: list[dict], store_dir: Path) -> list[dict]:
    """The evidence of each question on the store (retrieval and sentence choice only)."""
    from assistant.service import get_service

    service = get_service(Settings(store_dir=store_dir))
    store, chunks = service.store, service.store.count_chunks()
    for row in rows:
        q = Question.read(row["question"])
        passages = service.retriever.search(q, k=CURRENT.top_k)
        dense = max((p.dense_score or 0.0 for p in passages), default=0.0)
        cov, missing = coverage(q, passages) if q.language == "nl" else (1.0, [])
        chosen = select_sentences(q, passages, service.retriever.embedder, idf=store.idf)
        texts = [c.span.text for c in chosen]
        # Per chosen sentence: its attachment and whether its scope names the question's
        # names; the rule (answer.py, _name_gap) looks at those attached above the floor.
        df = store.document_frequency
        distinguishing = bool(unanswered_names(q.text, [], df, chunks))
        named = [
            (
                c.attached,
                not unanswered_names(q.text, [answer_scope(passages[c.passage])], df, chunks),
            )
            for c in chosen
        ]
        row.update(
            kind=q.kind or "-",
            language=q.language,
            dense=dense,
            coverage=cov,
            missing=missing,
            unknown=unknown_terms(missing, service.store.document_frequency),
            unknown_names=unknown_names(q.text, service.store.document_frequency, passages)
            if q.language == "nl"
            else [],
            unknown_asked=unknown_asked(q.text, df) if q.language == "nl" else "",
            kind_ok=bool(texts) and answers_kind(q, texts),
            attached=best_attachment(q, passages, service.store.idf),
            # Only Dutch questions are read for names (answerability.names).
            names_named=named if q.language == "nl" and distinguishing else None,
        )
    return rows


def decide(row: dict, setting: tuple[float, float, float, float]) -> bool:
    """True when the question is answered under (refusal, confident, coverage, attachment):
    answerability.refusal_reason on the saved evidence, then the answer-kind rules."""
    low, confident, min_cov, min_attach = setting
    settings = SimpleNamespace(
        refusal_threshold=low,
        confident_threshold=confident,
        min_coverage=min_cov,
        unknown_term_threshold=CURRENT.unknown_term_threshold,
        unknown_terms_threshold=CURRENT.unknown_terms_threshold,
    )  # fmt: skip  (a Settings copy per decision would dominate the grid search)
    names = row.get("unknown_names", [])
    asked = row.get("unknown_asked", "")
    if refusal_reason(row["dense"], row["coverage"], row["unknown"], settings, names, asked):
        return False
    if not row["kind_ok"]:
        return False
    named = row.get("names_named")
    if named is not None and not any(ok for att, ok in named if att >= min_attach):
        return False
    return not (min_attach > 0 and row["attached"] < min_attach)


def rates(rows: list[dict], answered: list[bool]) -> dict:
    pos = [a for r, a in zip(rows, answered, strict=True) if r["answerable"]]
    neg = [a for r, a in zip(rows, answered, strict=True) if not r["answerable"]]
    return {
        "refusal_accuracy": (sum(not a for a in neg) / len(neg)) if neg else None,
        "false_refusal_rate": (sum(not a for a in pos) / len(pos)) if pos else None,
        "unanswerable": len(neg),
        "answerable": len(pos),
    }


def choose(rows: list[dict]) -> tuple[tuple[float, float, float, float], dict]:
    """The setting the worst-neighbour rule picks on these questions, and its rates."""
    cache: dict[tuple, dict] = {}

    def score(g: tuple) -> dict:
        g = tuple(round(x, 2) for x in g)
        if g not in cache:
            cache[g] = rates(rows, [decide(r, g) for r in rows])
        return cache[g]

    def neighbourhood(g: tuple) -> list[dict]:
        low, conf, cov, att = g
        return [
            score((low + a, conf + b, cov, max(0.0, att + c)))
            for a in (-STEP, 0.0, STEP)
            for b in (-STEP, 0.0, STEP)
            for c in (-ATTACH_STEP, 0.0, ATTACH_STEP)
        ]

    grid = list(itertools.product(GRID_LOW, GRID_CONFIDENT, GRID_COVERAGE, GRID_ATTACH))
    allowed = [g for g in grid if score(g)["false_refusal_rate"] <= MAX_FALSE_REFUSAL]
    # Ties: fewer false refusals, then the higher minimum similarity (off-topic questions),
    # then the lower confident threshold, then the lower attachment floor.
    best = max(
        allowed or grid,
        key=lambda g: (
            round(min(r["refusal_accuracy"] for r in neighbourhood(g)), 4),
            -round(max(r["false_refusal_rate"] for r in neighbourhood(g)), 4),
            round(score(g)["refusal_accuracy"], 4),
            -round(score(g)["false_refusal_rate"], 4),
            g[0],
            -g[1],
            -g[3],
        ),
    )
    return best, score(best)


def fold_of(row: dict) -> str:
    """A fixed pseudo-random order of the questions (their ids' hash)."""
    return hashlib.sha256(row["id"].encode()).hexdigest()


def cross_validate(rows: list[dict]) -> tuple[list[bool], list[dict]]:
    """Held-out decisions: each fold decided by the setting chosen on the others."""
    strata: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        strata[(r["collection"], r["answerable"])].append(r)
    fold = {}
    for group in strata.values():  # deal each stratum round the folds, in a fixed order
        for i, r in enumerate(sorted(group, key=fold_of)):
            fold[r["id"]] = i % FOLDS
    answered = {}
    chosen = []
    for k in range(FOLDS):
        train = [r for r in rows if fold[r["id"]] != k]
        test = [r for r in rows if fold[r["id"]] == k]
        setting, train_rates = choose(train)
        chosen.append({"fold": k, "setting": setting, "train": train_rates,
                       "held_out": rates(test, [decide(r, setting) for r in test])})  # fmt: skip
        for r in test:
            answered[r["id"]] = decide(r, setting)
    return [answered[r["id"]] for r in rows], chosen


def breakdown(rows: list[dict], answered: list[bool], key: str) -> dict:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[str(r[key])].append(i)
    return {
        name: rates([rows[i] for i in idx], [answered[i] for i in idx])
        for name, idx in sorted(groups.items())
    }


def _feature_rows(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[dict]:
    """Every question's evidence (`features`), computed on --store and saved as
    <out>/refusal_features.json, or with --reuse read back from there.

    Raises:
        SystemExit: (through ``parser.error``) no saved features and no --store.
    """
    cache = args.out / "refusal_features.json"
    if args.reuse and cache.exists():
        return json.loads(cache.read_text())
    if not args.store:
        parser.error("--store is needed (build it with eval/make_mixed_store.sh)")
    rows = features(questions(args.set), args.store)
    args.out.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    return rows


def _errors(rows: list[dict], answered: list[bool]) -> list[dict]:
    """The questions decided wrongly (answered when unanswerable or the reverse), with
    the fields that show why."""
    keys = ("id", "collection", "kind", "question", "answerable", "dense", "coverage", "attached")
    return [
        {k: r[k] for k in keys} for r, a in zip(rows, answered, strict=True) if a != r["answerable"]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="the mixed store (eval/make_mixed_store.sh)")
    parser.add_argument("--set", type=Path, default=EVAL / "mixed-dev.jsonl")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    parser.add_argument("--reuse", action="store_true", help="reuse the saved features")
    args = parser.parse_args()
    rows = _feature_rows(args, parser)
    held_out, folds = cross_validate(rows)
    setting, in_sample = choose(rows)
    current = (CURRENT.refusal_threshold, CURRENT.confident_threshold, CURRENT.min_coverage,
               CURRENT.min_attachment)  # fmt: skip
    before = (0.28, 0.56, 0.6, 0.0)  # main before issue 14: no attachment rule
    result = {
        "questions": {
            "answerable": sum(r["answerable"] for r in rows),
            "unanswerable": sum(not r["answerable"] for r in rows),
            "hard_unanswerable": sum(r["hard"] for r in rows),
        },
        "chosen": dict(
            zip(
                ("refusal_threshold", "confident_threshold", "min_coverage", "min_attachment"),
                setting,
                strict=True,
            )
        )
        | in_sample,
        "cross_validated": {
            "overall": rates(rows, held_out),
            "hard_unanswerable": rates(
                [r for r in rows if r["hard"]],
                [a for r, a in zip(rows, held_out, strict=True) if r["hard"]],
            ),
            "per_kind": breakdown(rows, held_out, "kind"),
            "per_collection": breakdown(rows, held_out, "collection"),
            "folds": folds,
        },
        "current_settings": {
            "setting": current,
            **rates(rows, [decide(r, current) for r in rows]),
        },
        "before_issue_14": {
            "setting": before,
            **rates(rows, [decide(r, before) for r in rows]),
            "per_collection": breakdown(rows, [decide(r, before) for r in rows], "collection"),
        },
        "errors_held_out": _errors(rows, held_out),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "refusal_calibration.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    )
    print(json.dumps({k: v for k, v in result.items() if k != "errors_held_out"}, indent=1))
    for e in result["errors_held_out"]:
        verdict = "refused" if e["answerable"] else "answered"
        print(f"  {verdict:8} {e['collection']:9} {e['kind']:7} dense={e['dense']:.3f} "
              f"cov={e['coverage']:.2f} att={e['attached']:.2f} {e['question'][:70]}")  # fmt: skip


if __name__ == "__main__":
    main()
