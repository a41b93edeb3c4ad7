"""Sum up the scored questions of an evaluation run: metric means, rates and breakdowns.

The input is the list of results.jsonl records that ``runner.evaluate_item`` makes; the
output is the summary that ``report`` writes as summary.json and renders as report.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from assistant.evaluation import metrics as m
from assistant.types import RefusalReason

# Summary metrics in display order, with whether higher is better.
RETRIEVAL_METRICS = ("hit@1", "hit@3", "hit@5", "hit@10", "recall@k", "recall@10", "mrr", "ndcg@10")
ANSWER_METRICS = (
    "context_recall",
    "key_fact_recall",
    "token_f1",
    "semantic_similarity",
    "citation_precision",
    "citation_recall",
    "quote_verbatim",
    "faithfulness",
    "strict_faithfulness",
    "judge_correctness",
    "judge_faithfulness",
    "flesch_douma",
    "sentence_length",
    "b1",
)
RATE_METRICS = (
    "pass_rate",
    "refusal_accuracy",
    "false_refusal_rate",
    "injection_refusal_rate",
    "injection_flagged_rate",
)
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "sentence_length"})


def metric_names(k: int) -> list[str]:
    """Every summary metric name for a run with this k, in display order."""
    ret = [name.replace("@k", f"@{k}") for name in RETRIEVAL_METRICS]
    ret = list(dict.fromkeys(ret))
    return (
        [f"page_{n}" for n in ret]
        + [f"doc_{n}" for n in ret]
        + list(ANSWER_METRICS)
        + list(RATE_METRICS)
    )


def _rate(values: Sequence[bool]) -> tuple[float | None, int]:
    return (sum(values) / len(values) if values else None), len(values)


def aggregate(results: Sequence[dict[str, Any]], k: int) -> dict[str, dict[str, Any]]:
    """Every summary metric over these results: ``{name: {"value", "n"}}``."""
    done = [r for r in results if not r.get("error")]
    out: dict[str, dict[str, Any]] = {}
    for name in metric_names(k):
        if name in RATE_METRICS:
            continue
        value, n = m.mean(r["metrics"].get(name) for r in done)
        out[name] = {"value": value, "n": n}
    outcomes = [(r["answerable"], r["refused"]) for r in done]
    value = m.refusal_accuracy(outcomes)
    out["refusal_accuracy"] = {"value": value, "n": sum(1 for a, _ in outcomes if not a)}
    value = m.false_refusal_rate(outcomes)
    out["false_refusal_rate"] = {"value": value, "n": sum(1 for a, _ in outcomes if a)}
    inj = [r for r in done if r["injection"]]
    value, n = _rate([r["refused"] for r in inj])
    out["injection_refusal_rate"] = {"value": value, "n": n}
    value, n = _rate([r["refusal_reason"] == RefusalReason.INJECTION for r in inj])
    out["injection_flagged_rate"] = {"value": value, "n": n}
    value, n = _rate([bool(r["ok"]) for r in results])
    out["pass_rate"] = {"value": value, "n": n}
    return {name: out[name] for name in metric_names(k) if name in out}


def _groups(results: Sequence[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        values = r.get(key) if key == "tags" else [r.get(key)]
        for v in values or ["—"]:
            groups.setdefault(str(v) if v is not None else "—", []).append(r)
    return dict(sorted(groups.items()))


def question_type(result: dict[str, Any]) -> str:
    if result["injection"]:
        return "injection"
    if not result["answerable"]:
        return "onbeantwoordbaar"
    return "vervolgvraag" if result["history"] else "beantwoordbaar"


def summarise(results: Sequence[dict[str, Any]], run: dict[str, Any], k: int) -> dict[str, Any]:
    """The summary of a run: counts, metrics, latency, breakdowns and failure causes."""
    done = [r for r in results if not r.get("error")]
    causes = Counter(f.split(":", 1)[0] for r in results for f in r["failures"])
    typed = [{**r, "type": question_type(r)} for r in results]
    return {
        "run": run,
        "counts": {
            "questions": len(results),
            "answerable": sum(r["answerable"] for r in results),
            "unanswerable": sum(not r["answerable"] for r in results),
            "injection": sum(r["injection"] for r in results),
            "follow_up": sum(bool(r["history"]) for r in results),
            "refused": sum(bool(r.get("refused")) for r in done),
            "answered": sum(not r.get("refused") for r in done),
            "passed": sum(bool(r["ok"]) for r in results),
            "errors": len(results) - len(done),
        },
        "metrics": aggregate(results, k),
        "latency": m.latency_stats([r["timings"] for r in done]),
        "breakdowns": {
            dim: {
                name: {"n": len(group), "metrics": aggregate(group, k)}
                for name, group in _groups(typed, dim).items()
            }
            for dim in ("audience", "language", "municipality", "type", "tags")
        },
        "failure_causes": dict(causes.most_common()),
        "failed_ids": [r["id"] for r in results if not r["ok"]],
    }
