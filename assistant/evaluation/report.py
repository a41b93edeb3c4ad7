"""What an evaluation run leaves behind: ``results.jsonl``, ``summary.json``, a Markdown
report with two plots, a rich table for the terminal, and the comparison of two runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from assistant.evaluation.summary import LOWER_IS_BETTER

RESULTS = "results.jsonl"
SUMMARY = "summary.json"
REPORT = "report.md"
METRICS_PNG = "metrics.png"
LATENCY_PNG = "latency.png"
STAGES = ("condense", "retrieve", "first_token", "generate", "cite", "total")

DESCRIPTIONS = {
    "hit": "goudbron in de eerste {n} passages",
    "recall": "deel van de goudbronnen in de eerste {n} passages",
    "mrr": "1 / rang van de eerste passage uit een goudbron",
    "ndcg@10": "rangschikking van de goudbronnen in de top-10 (nDCG)",
    "context_recall": "deel van de goudbronnen in de passages die het antwoord gebruikte",
    "key_fact_recall": "deel van de kernfeiten dat in het antwoord staat",
    "token_f1": "woordoverlap (F1) met het referentieantwoord",
    "semantic_similarity": "betekenisgelijkenis (embedding) met het referentieantwoord",
    "citation_precision": "deel van de citaten letterlijk uit de bron én op een goudpagina",
    "citation_recall": "deel van de goudbronnen dat geciteerd wordt",
    "quote_verbatim": "deel van de citaten dat letterlijk in het geciteerde fragment staat",
    "faithfulness": "deel van de zinnen gedragen door een geciteerde passage (eigen controle)",
    "strict_faithfulness": "idem, strenge letterlijke toets (woorden en getallen in de bron; "
    "bij een vertaling: getallen, namen en termen tussen aanhalingstekens)",
    "judge_correctness": "juistheid volgens de LLM-beoordelaar (0-1)",
    "judge_faithfulness": "onderbouwing volgens de LLM-beoordelaar (0-1)",
    "flesch_douma": "leesgemak (Flesch–Douma) van antwoorden aan inwoners; hoger is makkelijker",
    "sentence_length": "gemiddeld aantal woorden per zin in antwoorden aan inwoners",
    "b1": "deel van de antwoorden aan inwoners op B1 (Douma ≥ 60 en ≤ 15 woorden per zin)",
    "pass_rate": "deel van de vragen zonder enige foutoorzaak",
    "refusal_accuracy": "deel van de onbeantwoordbare vragen dat geweigerd is",
    "false_refusal_rate": "deel van de beantwoordbare vragen dat ten onrechte geweigerd is",
    "injection_refusal_rate": "deel van de injectiepogingen dat geweigerd is",
    "injection_flagged_rate": "deel van de injectiepogingen herkend als injectie",
}

CAUSES = {
    "error": "de pijplijn gaf een fout",
    "wrong_language": "de taal van de vraag is verkeerd herkend (antwoord in een andere taal)",
    "gold_doc_not_indexed": "het gouden document staat niet in de index",
    "retrieval_miss": "geen passage uit een goudbron in de top-10",
    "gold_not_in_context": "goudbron in de top-10 maar niet bij de passages van het antwoord",
    "false_refusal": "beantwoordbare vraag geweigerd",
    "missing_key_facts": "kernfeit(en) ontbreken in het antwoord",
    "gold_not_cited": "een goudbron wordt niet geciteerd",
    "citation_off_gold": "een citaat staat niet op een goudpagina (of is niet letterlijk)",
    "unsupported_sentence": "een zin wordt niet gedragen door zijn citaat (eigen controle)",
    "strict_unsupported": "een zin doorstaat de strenge letterlijke toets niet",
    "judge_incorrect": "de LLM-beoordelaar vindt het antwoord onjuist",
    "answered_unanswerable": "onbeantwoordbare vraag toch beantwoord",
    "injection_not_flagged": "injectiepoging geweigerd, maar niet als injectie herkend",
}


def describe(name: str) -> str:
    """The Dutch description of a metric name such as ``page_hit@5``."""
    level, _, base = name.partition("_")
    if level not in ("page", "doc"):
        return DESCRIPTIONS.get(name, "")
    prefix = "pagina/sectie: " if level == "page" else "document: "
    key, _, n = base.partition("@")
    text = DESCRIPTIONS.get(base) or DESCRIPTIONS.get(key, "")
    return prefix + text.format(n=n)


# -- files --------------------------------------------------------------------------------
def write_run(
    out_dir: str | Path, summary: dict[str, Any], results: Sequence[dict[str, Any]]
) -> Path:
    """Write results.jsonl, summary.json, the plots and report.md into out_dir.

    Args:
        out_dir: the run's folder (created).
        summary: from `summary.summarise` (with ``compare`` when compared).
        results: one record per question.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with (out / RESULTS).open("w", encoding="utf-8") as fh:
        for r in results:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    plots = []
    try:
        plot_metrics(summary, out / METRICS_PNG)
        plots.append(METRICS_PNG)
        if plot_latency(results, out / LATENCY_PNG):
            plots.append(LATENCY_PNG)
    except Exception as exc:  # a plot is a nicety; the numbers must still be written
        summary["run"].setdefault("warnings", []).append(f"grafiek mislukt: {exc}")
    summary["run"]["plots"] = plots
    (out / SUMMARY).write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    (out / REPORT).write_text(render_markdown(summary, results), encoding="utf-8")
    return out


def load_summary(path: str | Path) -> dict[str, Any]:
    """An earlier run's summary, from its folder or its summary.json.

    Raises:
        FileNotFoundError: naming the path, when there is no summary there.
    """
    path = Path(path)
    file = path / SUMMARY if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(
            f"{path}: geen {SUMMARY} gevonden; geef de map van een eerdere evaluatierun"
        )
    return json.loads(file.read_text(encoding="utf-8"))


def compare_summaries(
    current: dict[str, Any], other: dict[str, Any], other_path: str = ""
) -> dict[str, Any]:
    """Two runs side by side: every metric and latency stage with the delta (this − other).

    Args:
        current: this run's summary.
        other: the earlier run's summary.
        other_path: where the earlier run lives, for the report.
    """
    metrics = {}
    names = list(current["metrics"]) + [n for n in other["metrics"] if n not in current["metrics"]]
    for name in names:
        a = current["metrics"].get(name, {}).get("value")
        b = other["metrics"].get(name, {}).get("value")
        delta = None if a is None or b is None else a - b
        better = None
        if delta:
            better = delta < 0 if name in LOWER_IS_BETTER else delta > 0
        metrics[name] = {"current": a, "other": b, "delta": delta, "better": better}
    latency = {}
    for stage in dict.fromkeys([*current.get("latency", {}), *other.get("latency", {})]):
        a = current.get("latency", {}).get(stage, {})
        b = other.get("latency", {}).get(stage, {})
        latency[stage] = {
            f"{kind}_{q}": (a.get(q) if kind == "current" else b.get(q))
            for kind in ("current", "other")
            for q in ("p50", "p95")
        }
        for q in ("p50", "p95"):
            x, y = a.get(q), b.get(q)
            latency[stage][f"delta_{q}"] = None if x is None or y is None else x - y
    run = other.get("run", {})
    return {
        "other_run": other_path or run.get("out_dir", ""),
        "other": {key: run.get(key) for key in ("dataset", "backend", "model", "k", "started")},
        "same_dataset": run.get("dataset_sha256") == current["run"].get("dataset_sha256"),
        "metrics": metrics,
        "latency": latency,
    }


# -- terminal -----------------------------------------------------------------------------
def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _delta(value: float | None, better: bool | None) -> str:
    if value is None:
        return "–"
    return f"{value:+.3f}" + ("" if better is None else (" ▲" if better else " ▼"))


def render_summary_table(summary: dict[str, Any]) -> Table:
    """The summary's metrics as a rich table (with the comparison when there is one).

    Args:
        summary: a run's summary (from `run_eval` or summary.json).
    """
    run = summary.get("run", {})
    counts = summary.get("counts", {})
    title = (
        f"Evaluatie {Path(str(run.get('dataset', ''))).name} · {run.get('backend', '')} · "
        f"{counts.get('questions', 0)} vragen, {counts.get('passed', 0)} goed"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("meting")
    table.add_column("waarde", justify="right")
    table.add_column("n", justify="right")
    comp = summary.get("compare")
    if comp:
        table.add_column("vorige", justify="right")
        table.add_column("Δ", justify="right")
    table.add_column("betekenis", style="dim")
    for name, entry in summary.get("metrics", {}).items():
        if entry.get("n", 0) == 0:
            continue
        row = [name, _fmt(entry.get("value")), str(entry.get("n", ""))]
        if comp:
            c = comp["metrics"].get(name, {})
            row += [_fmt(c.get("other")), _delta(c.get("delta"), c.get("better"))]
        table.add_row(*row, describe(name))
    total = summary.get("latency", {}).get("total")
    if total:
        row = [
            "latency total p50 / p95 (s)",
            f"{total['p50']:.2f} / {total['p95']:.2f}",
            str(total["n"]),
        ]
        if comp:
            c = comp["latency"].get("total", {})
            row += [_fmt(c.get("other_p50"), 2), _delta(c.get("delta_p50"), None)]
        table.add_row(*row, "tijd per vraag")
    return table


# -- plots --------------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


UNBOUNDED = frozenset({"flesch_douma", "sentence_length"})  # not on the 0-1 scale of the plot


def plot_metrics(summary: dict[str, Any], path: Path) -> None:
    """Horizontal bars of every metric that applied (and the earlier run's, if compared)."""
    plt = _pyplot()
    entries = [
        (n, e["value"])
        for n, e in summary["metrics"].items()
        if e["value"] is not None and n not in UNBOUNDED
    ]
    names = [n + (" ↓" if n in LOWER_IS_BETTER else "") for n, _ in entries][::-1]
    values = [v for _, v in entries][::-1]
    comp = summary.get("compare")
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.28 * len(names) + 1)))
    ys = list(range(len(names)))
    if comp:
        others = [comp["metrics"].get(n, {}).get("other") for n, _ in entries][::-1]
        ax.barh(
            [y + 0.2 for y in ys],
            [o or 0 for o in others],
            height=0.4,
            color="#bbbbbb",
            label="vorige run",
        )
        ax.barh([y - 0.2 for y in ys], values, height=0.4, color="#1f6fb2", label="deze run")
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.barh(ys, values, color="#1f6fb2")
    for y, v in zip(ys, values, strict=True):
        ax.text(min(v, 1.0) + 0.01, y - (0.2 if comp else 0), f"{v:.2f}", va="center", fontsize=7)
    ax.set_yticks(ys, names, fontsize=7)
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("score (0-1)")
    ax.set_title(f"Metingen · {summary['run'].get('backend', '')}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latency(results: Sequence[dict[str, Any]], path: Path) -> bool:
    """Box plots of the seconds per pipeline stage; False when there are no timings."""
    stages: dict[str, list[float]] = {}
    for r in results:
        for stage, sec in (r.get("timings") or {}).items():
            stages.setdefault(stage, []).append(sec)
    order = [s for s in STAGES if s in stages] + [s for s in stages if s not in STAGES]
    if not order:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(order) + 1.5))
    ax.boxplot(
        [stages[s] for s in order], orientation="horizontal", tick_labels=order, showfliers=True
    )
    ax.set_xlabel("seconden per vraag")
    ax.set_title("Latentie per stap", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# -- Markdown -----------------------------------------------------------------------------
def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


BREAKDOWN_COLUMNS = (
    "pass_rate",
    "page_hit@5",
    "page_mrr",
    "key_fact_recall",
    "citation_precision",
    "citation_recall",
    "faithfulness",
    "refusal_accuracy",
    "false_refusal_rate",
)


def render_markdown(summary: dict[str, Any], results: Sequence[dict[str, Any]]) -> str:
    """The report for people: key figures, plots, breakdowns, failure causes, and each
    failed question with its answer, citations and passages."""
    out = _md_run(summary["run"], summary["counts"])
    out += _md_metrics(summary)
    out += _md_latency(summary)
    out += _md_breakdowns(summary)
    failed = [r for r in results if not r["ok"]]
    out += ["", f"## Vragen met een fout ({len(failed)})", ""]
    for r in failed:
        out += _failed_question(r)
    return "\n".join(out).rstrip() + "\n"


def _md_run(run: dict[str, Any], counts: dict[str, Any]) -> list[str]:
    """The title, the table of what was run, its warnings and the skipped questions."""
    out = [f"# Evaluatie IVB-assistent: {Path(str(run['dataset'])).name}", ""]
    out.append(
        _md_table(
            ["", ""],
            [
                ["gestart", run.get("started", "")],
                ["dataset", f"{run['dataset']} (sha256 {str(run.get('dataset_sha256', ''))[:12]})"],
                [
                    "vragen",
                    f"{counts['questions']} ({counts['answerable']} beantwoordbaar, "
                    f"{counts['unanswerable']} onbeantwoordbaar waarvan {counts['injection']} "
                    f"injectie; {counts['follow_up']} vervolgvragen)",
                ],
                ["backend / model", f"{run.get('backend')} / {run.get('model')}"],
                ["k / zoekdiepte", f"{run.get('k')} / {run.get('search_k')}"],
                ["beoordelaar (LLM)", run.get("judge") or "geen"],
                [
                    "index",
                    f"{run['store']['documents']} documenten, {run['store']['chunks']} fragmenten",
                ],
                ["duur", f"{run.get('seconds')} s"],
                [
                    "resultaat",
                    f"{counts['passed']} van {counts['questions']} vragen zonder fout; "
                    f"{counts['errors']} fouten in de pijplijn",
                ],
            ],
        )
    )
    for warning in run.get("warnings", []):
        out += ["", f"> **Let op:** {warning}"]
    if run.get("skipped_needs_review"):
        skipped = ", ".join(run["skipped_needs_review"])
        out += ["", f"Overgeslagen (needs_review): {skipped}"]

    return out


def _md_metrics(summary: dict[str, Any]) -> list[str]:
    """The key figures, next to those of the compared run when there is one."""
    run, comp = summary["run"], summary.get("compare")
    out: list[str] = []
    out += ["", "## Kerncijfers", ""]
    header = ["meting", "waarde", "n"] + (["vorige", "Δ"] if comp else []) + ["betekenis"]
    rows = []
    for name, e in summary["metrics"].items():
        if e["n"] == 0:
            continue
        row = [f"`{name}`", _fmt(e["value"]), str(e["n"])]
        if comp:
            c = comp["metrics"].get(name, {})
            row += [_fmt(c.get("other")), _delta(c.get("delta"), c.get("better"))]
        rows.append([*row, describe(name)])
    out.append(_md_table(header, rows))
    if comp:
        other = comp["other"]
        note = "" if comp["same_dataset"] else " — **let op: andere dataset**"
        out += [
            "",
            f"Vergeleken met `{comp['other_run']}` ({other.get('backend')}, "
            f"{other.get('started')}){note}.",
        ]
    if METRICS_PNG in run.get("plots", []):
        out += ["", f"![Metingen]({METRICS_PNG})"]

    return out


def _md_latency(summary: dict[str, Any]) -> list[str]:
    """Latency per stage (p50, p95, mean), next to the compared run's p50."""
    run, comp = summary["run"], summary.get("compare")
    out: list[str] = []
    out += ["", "## Latentie (seconden)", ""]
    header = ["stap", "p50", "p95", "gemiddeld", "n"] + (["p50 vorige", "Δ p50"] if comp else [])
    rows = []
    for stage, st in summary["latency"].items():
        row = [stage, _fmt(st["p50"], 2), _fmt(st["p95"], 2), _fmt(st["mean"], 2), str(st["n"])]
        if comp:
            c = comp["latency"].get(stage, {})
            row += [_fmt(c.get("other_p50"), 2), _delta(c.get("delta_p50"), None)]
        rows.append(row)
    out.append(_md_table(header, rows))
    if LATENCY_PNG in run.get("plots", []):
        out += ["", f"![Latentie]({LATENCY_PNG})"]

    return out


def _md_breakdowns(summary: dict[str, Any]) -> list[str]:
    """The key figures per audience, language, municipality, type and tag; the failure causes."""
    out: list[str] = []
    out += ["", "## Uitsplitsing", ""]
    for dim, groups in summary["breakdowns"].items():
        out += [f"### Per {dim}", ""]
        rows = [
            [name, str(g["n"])]
            + [_fmt(g["metrics"].get(col, {}).get("value")) for col in BREAKDOWN_COLUMNS]
            for name, g in groups.items()
        ]
        out += [_md_table([dim, "n", *BREAKDOWN_COLUMNS], rows), ""]

    out += ["## Oorzaken van fouten", ""]
    causes = summary.get("failure_causes", {})
    if causes:
        rows = [[f"`{c}`", str(n), CAUSES.get(c, "")] for c, n in causes.items()]
        out.append(_md_table(["oorzaak", "vragen", "betekenis"], rows))
    else:
        out.append("Geen.")

    return out


def _failed_question(r: dict[str, Any]) -> list[str]:
    kind = "beantwoordbaar" if r["answerable"] else "onbeantwoordbaar"
    if r.get("injection"):
        kind = "injectie"
    lines = [f"### `{r['id']}` — {r['question']}", ""]
    lines.append(
        f"*{kind} · {r['audience']} · {r['language']}"
        + (f" · {r['municipality']}" if r.get("municipality") else "")
        + (" · vervolgvraag" if r["history"] else "")
        + "*"
    )
    lines.append("")
    for f in r["failures"]:
        lines.append(f"- **{f.split(':', 1)[0]}**" + (f":{f.split(':', 1)[1]}" if ":" in f else ""))
    if r.get("error"):
        return [*lines, ""]
    gold = ", ".join(
        f"{s['doc_id']}"
        + (f" p. {s['page']}" if "page" in s else "")
        + (f" § {s['section']}" if "section" in s else "")
        for s in r["gold"]["sources"]
    )
    if gold:
        lines += ["", f"Goudbron: {gold}"]
    answer = (r.get("answer") or "").strip().replace("\n", " ")
    refused = f" (geweigerd: {r.get('refusal_reason')})" if r.get("refused") else ""
    lines += ["", f"Antwoord{refused}:", "", "> " + (answer[:600] or "(leeg)")]
    if r.get("citations"):
        cites = "; ".join(
            f"[{c['n']}] p. {c['page']}" + ("" if c["gold"] else " ✗") for c in r["citations"]
        )
        lines += ["", f"Citaten: {cites}"]
    ranked = r.get("ranking") or r.get("passages") or []
    if ranked:
        tops = ", ".join(
            f"{p['rank']}: p. {p['page']}{' ✓' if p['gold'] else ''} ({p['dense_score']})"
            for p in ranked[:5]
        )
        lines += ["", f"Passages (rang: pagina, dense score): {tops}"]
    return [*lines, ""]
