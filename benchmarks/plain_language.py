"""How far resident answers can get to B1, and by which means: measured, not assumed.

Issue 14 asks that answers to residents meet B1 by the measure `ivb eval` reports
(`assistant.evaluation.readability`: Flesch–Douma ≥ 60 and ≤ 15 words per sentence). The
answers rest on sentences code chose from the documents. This benchmark takes the resident
answers of `ivb eval` runs (their answer sentences are the chosen sentences) and measures
the B1 share of the same answers under each means of making them plainer:

- ``as_answered``: the answer as `ivb eval` scored it (the baseline of this run);
- ``mechanical``: asides in brackets dropped and sentences split at ";" and before
  ", maar / want / dus / of" (edits that keep every claim);
- ``lexical_ceiling``: the mechanical edits plus every word rarer than Zipf 4.0 in Dutch
  (wordfreq) replaced by a two-syllable word: an upper bound for any word-list
  substitution, since no list replaces every rare word and keeps the meaning;
- ``model_rewrite`` (with ``--model``): the packaged local model asked to rewrite the
  answer in B1 (`prompts.plain_rewrite_messages`); each rewrite is graded for B1, by the
  evaluation's literal test (`strict_support` of every sentence against the chosen
  sentences) and, looser, for keeping their numbers, names and dates
  (`citations.dropped_tokens`);
- ``reference``: the Rijksoverheid's own answers to the FAQ questions (written for the
  public), whole and their first paragraph, as a check on the measure itself.

    python benchmarks/plain_language.py RESULTS.jsonl [...] [--model N [--backend openai]]

Writes benchmarks/results/plain_language.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import prompts
from assistant.citations import dropped_tokens
from assistant.evaluation.metrics import strict_support
from assistant.evaluation.readability import plain_text, readability
from assistant.prompts import EXTRACTIVE_INTRO
from assistant.sentences import split_spans
from benchmarks.common import FAQ_DATASET, RESULTS_DIR, machine_info

_ASIDE = re.compile(r"\s+\([^()]*\)(?![^\W\d_])")  # an aside in brackets, not "(uit)lenen"
_SPLIT = re.compile(r"\s*;\s*|,\s+(?=(?:maar|want|dus|of)\s)")
RARE_ZIPF = 4.0


def mechanical(text: str) -> str:
    """Asides in brackets dropped; sentences split at ";" and before a coordinating
    conjunction after a comma (the next part starts with a capital)."""
    parts = _SPLIT.split(_ASIDE.sub("", text))
    return ". ".join(p[:1].upper() + p[1:] for p in parts if p)


def lexical_ceiling(text: str) -> str:
    """`mechanical`, then every word rarer than Zipf 4.0 in Dutch as "woorden"."""
    from wordfreq import zipf_frequency

    def plain(match: re.Match[str]) -> str:
        word = match.group()
        return "woorden" if zipf_frequency(word.lower(), "nl") < RARE_ZIPF else word

    return re.sub(r"[^\W\d_]+", plain, mechanical(text))


def _share(values: Sequence[dict[str, float | None]]) -> dict[str, float | int | None]:
    scored = [v for v in values if v["b1"] is not None]
    if not scored:
        return {"n": 0, "b1": None, "flesch_douma": None, "sentence_length": None}

    def mean(key: str) -> float:
        return round(sum(float(v[key] or 0.0) for v in scored) / len(scored), 3)

    return {"n": len(scored), "b1": mean("b1"), "flesch_douma": mean("flesch_douma"),
            "sentence_length": mean("sentence_length")}  # fmt: skip


def resident_answers(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The answered Dutch resident rows of `ivb eval` results: question, collection,
    answer text and its sentences."""
    rows = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r["metrics"].get("b1") is None:
                continue
            collection = next(
                (t.split(":", 1)[1] for t in r["tags"] if t.startswith("collection:")), "?"
            )
            rows.append({
                "id": r["id"], "question": r["question"], "collection": collection,
                "text": plain_text(r["answer"], EXTRACTIVE_INTRO["nl"]),
                "sentences": [s["text"] for s in r["sentences"]],
            })  # fmt: skip
    return rows


def _by_collection(
    rows: Sequence[dict[str, Any]], score: Callable[[dict[str, Any]], dict[str, float | None]]
) -> dict[str, Any]:
    scores = [(r["collection"], score(r)) for r in rows]
    out = {"all": _share([s for _, s in scores])}
    for collection in sorted({c for c, _ in scores}):
        out[collection] = _share([s for c, s in scores if c == collection])
    return out


def literal(rewrite: str, sentences: Sequence[str]) -> bool:
    """Every sentence of the rewrite passes the evaluation's literal test against the
    chosen sentences (what `strict_faithfulness` counts)."""
    source = " ".join(sentences)
    spans = [s.text for s in split_spans(rewrite) if s.text.strip()]
    return bool(spans) and all(strict_support(s, source) for s in spans)


def keeps_key_tokens(rewrite: str, sentences: Sequence[str]) -> bool:
    """None of the chosen sentences' numbers, names, dates or quoted terms is dropped (the
    answer path's `dropped_tokens` check); a looser bound than `literal`."""
    return not dropped_tokens(rewrite, sentences, "nl")


def model_rewrites(
    rows: Sequence[dict[str, Any]], n: int, backend: str = "local"
) -> list[dict[str, Any]]:
    """A model's B1 rewrite of the first ``n`` answers, graded: the packaged local model,
    or with ``backend="openai"`` the configured API model (IVB_OPENAI_* settings)."""
    from assistant.llm import make_chat_model, start_local_model
    from assistant.settings import get_settings

    settings = get_settings()
    if backend == "local":
        start_local_model(settings)
    chat = make_chat_model(settings, backend)
    graded = []
    for r in rows[:n]:
        t = time.perf_counter()
        reply = chat.invoke(prompts.plain_rewrite_messages(r["sentences"]))
        text = str(getattr(reply, "content", reply)).strip()
        grade = readability(text)
        graded.append({
            "id": r["id"], "collection": r["collection"], "source": r["text"], "rewrite": text,
            "b1": grade["b1"], "flesch_douma": grade["flesch_douma"],
            "sentence_length": grade["sentence_length"],
            "literal": literal(text, r["sentences"]),
            "keeps_key_tokens": keeps_key_tokens(text, r["sentences"]),
            "seconds": time.perf_counter() - t,
        })  # fmt: skip
    return graded


def reference_answers() -> dict[str, Any]:
    """B1 of the Rijksoverheid's own FAQ answers: whole, and their first paragraph."""
    whole, first = [], []
    for line in FAQ_DATASET.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        text = item.get("reference_answer") or ""
        if not text:
            continue
        whole.append(readability(text))
        first.append(readability(text.split("\n\n")[0]))
    return {"whole": _share(whole), "first_paragraph": _share(first)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="ivb eval results.jsonl files")
    parser.add_argument("--model", type=int, default=0, help="answers for the model to rewrite")
    parser.add_argument("--backend", default="local", choices=["local", "openai"])
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "plain_language.json")
    args = parser.parse_args()
    rows = resident_answers(args.results)
    report: dict[str, Any] = {
        "machine": machine_info(),
        "goal": "resident answers meet B1 (Flesch–Douma ≥ 60 and ≤ 15 words per sentence)",
        "sources": [str(p) for p in args.results],
        "as_answered": _by_collection(rows, lambda r: readability(r["text"])),
        "mechanical": _by_collection(rows, lambda r: readability(mechanical(r["text"]))),
        "lexical_ceiling": _by_collection(rows, lambda r: readability(lexical_ceiling(r["text"]))),
        "reference": reference_answers(),
    }
    if args.model:
        graded = model_rewrites(rows, args.model, args.backend)
        n = max(1, len(graded))

        def share(test: Callable[[dict[str, Any]], bool]) -> float:
            return round(sum(1 for g in graded if test(g)) / n, 3)

        report["model_rewrite"] = {
            "backend": args.backend,
            "n": len(graded),
            "b1": share(lambda g: bool(g["b1"])),
            "literal": share(lambda g: g["literal"]),
            "keeps_key_tokens": share(lambda g: g["keeps_key_tokens"]),
            "b1_and_literal": share(lambda g: bool(g["b1"]) and g["literal"]),
            "b1_and_key_tokens": share(lambda g: bool(g["b1"]) and g["keeps_key_tokens"]),
            "seconds_mean": round(sum(g["seconds"] for g in graded) / n, 2),
            "rows": graded,
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    brief = {k: v for k, v in report.items() if k not in {"machine", "sources"}}
    if "model_rewrite" in brief:
        brief["model_rewrite"] = {k: v for k, v in brief["model_rewrite"].items() if k != "rows"}
    print(json.dumps(brief, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
