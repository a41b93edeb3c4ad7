"""Run every benchmark, then write results/summary.json and results/summary.md.

Each benchmark runs in its own process (its memory and load times are its own) and
writes results/<name>.json; this script prints every figure with its ratio and writes
a Markdown table for the README's performance section.

    python benchmarks/run.py                  # default sizes, ~15 minutes on 2 quiet cores
    python benchmarks/run.py --quick          # tiny sizes: a smoke test (results/quick/)
    python benchmarks/run.py --sizes large    # + 1000 statutes, 10k and 100k chunks
    python benchmarks/run.py --sizes ingest=10,100,1000 change=1000 query=1000,10000
    python benchmarks/run.py --only ingest,baseline --no-llm
    python benchmarks/run.py --from-results   # only rebuild summary.json / summary.md
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    FIGURE_HEADERS,
    QUICK_RESULTS_DIR,
    RESULTS_DIR,
    describe_machine,
    figure_rows,
    machine_info,
    parse_sizes,
    render_markdown,
    render_table,
)

HERE = Path(__file__).resolve().parent
BENCHMARKS = {  # name → title, in the order they run
    "ingest": "Ingest speed (benchmarks/ingest.py)",
    "embedding_options": "Embedding options (benchmarks/embedding_options.py)",
    "baseline": "Retrieval against a naive LangChain RAG (benchmarks/baseline.py)",
    "query_latency": "Query latency, local LLM and memory (benchmarks/query_latency.py)",
}
SIZE_KEYS = {
    "ingest": "--sizes",
    "reingest": "--reingest-size",
    "change": "--change-size",
    "query": "--sizes",
}
LARGE = {"ingest": "10,100,1000", "change": "1000", "query": "1000,10000,100000"}


def parse_size_args(items: list[str]) -> dict[str, str]:
    """['large'] or ['ingest=10,100', 'query=1k'] → {'ingest': '10,100', 'query': '1000'}."""
    out: dict[str, str] = {}
    for item in items:
        if item == "large":
            out.update(LARGE)
            continue
        key, sep, value = item.partition("=")
        if not sep or key not in SIZE_KEYS:
            raise SystemExit(
                f"--sizes: '{item}' is not 'large' or KEY=LIST with KEY in {sorted(SIZE_KEYS)}"
            )
        sizes = parse_sizes(value)
        if key in ("reingest", "change") and len(sizes) != 1:
            raise SystemExit(f"--sizes: {key} takes one number, got '{value}'")
        out[key] = ",".join(str(s) for s in sizes)
    return out


def command(name: str, args: argparse.Namespace, sizes: dict[str, str], out: Path) -> list[str]:
    cmd = [sys.executable, str(HERE / f"{name}.py"), "--out", str(out), "--seed", str(args.seed)]
    if args.quick:
        cmd.append("--quick")
    if name == "ingest":
        cmd += ["--repeat", str(args.repeat)]
        for key in ("ingest", "reingest", "change"):
            if key in sizes:
                cmd += [SIZE_KEYS[key], sizes[key]]
    if name == "query_latency":
        if "query" in sizes:
            cmd += ["--sizes", sizes["query"]]
        if not args.llm:
            cmd.append("--no-llm")
    return cmd


def run_one(name: str, cmd: list[str], out: Path) -> dict[str, Any]:
    print(f"\n{'=' * 78}\n{BENCHMARKS[name]}\n$ {' '.join(cmd)}\n{'=' * 78}", flush=True)
    result_file = out / f"{name}.json"
    before = result_file.stat().st_mtime if result_file.exists() else None
    started = time.perf_counter()
    proc = subprocess.run(cmd, check=False)
    wall = time.perf_counter() - started
    fresh = result_file.exists() and result_file.stat().st_mtime != before
    entry: dict[str, Any] = {"returncode": proc.returncode, "wall_s": round(wall, 1)}
    if proc.returncode == 0 and fresh:
        entry["result"] = json.loads(result_file.read_text())
    else:
        entry["error"] = f"exited with {proc.returncode}" + ("" if fresh else ", no result file")
    return entry


def summary_markdown(summary: dict[str, Any]) -> str:
    machine = summary["machine"]
    v = machine["versions"]
    lines = [
        "## Performance",
        "",
        f"Measured with `python benchmarks/run.py{summary['flags']}` on "
        f"{summary['started_at'][:10]}: "
        + describe_machine(machine, "at start" if summary["wall_s"] else "after the first run")
        + (f" (at the end {machine['load_avg_end'][0]})" if "load_avg_end" in machine else "")
        + f"; Python {machine['python']}, torch {v.get('torch')}, sentence-transformers "
        f"{v.get('sentence_transformers')}, chromadb {v.get('chromadb')}."
        + (f" Total {summary['wall_s'] / 60:.1f} minutes." if summary["wall_s"] else ""),
        "",
        "Every row sets our pipeline beside a baseline measured in the same run on the same "
        "data; ratio = ours / baseline.",
    ]
    for name, title in BENCHMARKS.items():
        entry = summary["benchmarks"].get(name)
        if entry is None:
            continue
        lines += ["", f"### {title}", ""]
        if "error" in entry:
            lines.append(f"Not measured: the benchmark {entry['error']}.")
            continue
        result = entry["result"]
        module = importlib.import_module(f"benchmarks.{name}")
        table = module.details(result)
        lines += [render_markdown(table["headers"], table["rows"]), ""]
        lines += [f"{note}  " for note in table["notes"]]
        lines += ["", render_markdown(FIGURE_HEADERS, figure_rows(result["figures"]))]
        notes = [f"{f['metric']}: {f['note']}" for f in result["figures"] if f.get("note")]
        if notes:
            lines += [""] + [f"- {n}" for n in notes]
    goals = summary["goals"]
    met = sum(1 for g in goals if g["met"])
    lines += ["", f"Goals met: {met} of {len(goals)}."]
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument(
        "--sizes",
        nargs="+",
        default=[],
        help="'large', or KEY=LIST with KEY in ingest, reingest, change, query",
    )
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated subset of {','.join(BENCHMARKS)}",
    )
    parser.add_argument("--no-llm", dest="llm", action="store_false", help="skip the local LLM")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument(
        "--repeat", type=int, default=1, help="ingest: runs per size, the fastest counts"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"results folder (default {RESULTS_DIR}, --quick: {QUICK_RESULTS_DIR})",
    )
    parser.add_argument(
        "--from-results",
        action="store_true",
        help="run nothing: rebuild the summary from the results/<name>.json already there",
    )
    return parser


def _collect(
    args: argparse.Namespace, only: list[str], sizes: dict[str, str], out: Path
) -> dict[str, dict[str, Any]]:
    """Each benchmark of `only`, in order: run in its own process, or (--from-results)
    its results/<name>.json read back; name → {"returncode", "wall_s", "result"} or
    {"returncode", "error"}."""
    entries = {}
    for name in BENCHMARKS:
        if name not in only:
            continue
        if args.from_results:
            path = out / f"{name}.json"
            entries[name] = (
                {"returncode": 0, "wall_s": 0.0, "result": json.loads(path.read_text())}
                if path.exists()
                else {"returncode": None, "error": f"has no {path}"}
            )
        else:
            entries[name] = run_one(name, command(name, args, sizes, out), out)
    return entries


def _rows_and_goals(
    entries: dict[str, dict[str, Any]],
) -> tuple[list[list[str]], list[dict[str, Any]]]:
    """Every benchmark's figures as table rows ("name: metric" first), and the figures
    held to a goal: {"benchmark", "metric", "goal", "met"}."""
    goals, all_rows = [], []
    for name, entry in entries.items():
        if "error" in entry:
            all_rows.append([f"{name}: not measured ({entry['error']})", "", "", "", "", ""])
            continue
        figures = entry["result"]["figures"]
        all_rows += [[f"{name}: {row[0]}", *row[1:]] for row in figure_rows(figures)]
        goals += [
            {"benchmark": name, "metric": f["metric"], "goal": f["goal"], "met": f["met"]}
            for f in figures
            if f.get("met") is not None
        ]
    return all_rows, goals


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"--only: unknown benchmark(s) {sorted(unknown)}")
    sizes = parse_size_args(args.sizes)
    out = args.out or (QUICK_RESULTS_DIR if args.quick else RESULTS_DIR)
    out.mkdir(parents=True, exist_ok=True)
    flags = " ".join(a for a in (argv if argv is not None else sys.argv[1:]) if "/" not in a)

    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    machine = machine_info()
    print(f"machine: {describe_machine(machine)}")
    started = time.perf_counter()
    entries = _collect(args, only, sizes, out)
    all_rows, goals = _rows_and_goals(entries)
    wall_s: float | None = round(time.perf_counter() - started, 1)
    if args.from_results:  # describe the machine and time of the runs, not of this call
        results = [e["result"] for e in entries.values() if "result" in e]
        if results:
            machine = results[0]["machine"]
            started_at = min(r["finished_at"] for r in results)
        flags, wall_s = "", None
    else:
        machine["load_avg_end"] = machine_info()["load_avg"]
    summary = {
        "started_at": started_at,
        "wall_s": wall_s,
        "flags": f" {flags}" if flags else "",
        "quick": args.quick,
        "machine": machine,
        "benchmarks": entries,
        "goals": goals,
    }
    print(f"\n{'=' * 78}\nall figures (ratio = ours / baseline)\n{'=' * 78}")
    print(render_table(["benchmark: metric", *FIGURE_HEADERS[1:]], all_rows))
    met = sum(1 for g in goals if g["met"])
    total = f"; total {wall_s / 60:.1f} minutes" if wall_s and not args.from_results else ""
    print(f"\ngoals met: {met} of {len(goals)}{total}")
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n"
    )
    (out / "summary.md").write_text(summary_markdown(summary))
    print(f"wrote {out / 'summary.json'} and {out / 'summary.md'}")
    return 0 if all("error" not in e for e in entries.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
