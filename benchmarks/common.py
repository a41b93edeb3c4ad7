"""Shared helpers of the benchmarks: data samples, timing, memory, tables and result files.

Every benchmark reports *figures*: one measured quantity for our pipeline beside the same
quantity for a baseline measured in the same run on the same data, their ratio, and the
goal it is held to. ``run.py`` collects the figures of every benchmark into one table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from assistant.settings import Settings  # noqa: E402
from assistant.types import Chunk, Document  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"
STATUTES = SHARED / "corpora" / "nl-wetten-2017"
FAQ_SOURCE = SHARED / "corpora" / "rijksoverheid-faq" / "faq-dev.jsonl"
FAQ_CORPUS = REPO_ROOT / "eval" / "faq"
FAQ_DATASET = REPO_ROOT / "eval" / "faq-dev.jsonl"
STATUTE_QUESTIONS = REPO_ROOT / "eval" / "wetten-burgemeester.jsonl"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
QUICK_RESULTS_DIR = RESULTS_DIR / "quick"
SEED = 2017


# -- arguments -----------------------------------------------------------------------------
def parse_sizes(text: str) -> list[int]:
    """'10,100,1k' → [10, 100, 1000] (sorted, unique)."""
    sizes = set()
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        factor = 1000 if part.endswith("k") else 1
        sizes.add(int(float(part.rstrip("k")) * factor))
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(f"sizes must be positive numbers, got {text!r}")
    return sorted(sizes)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"results folder (default {RESULTS_DIR}, or {QUICK_RESULTS_DIR} with --quick)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help="sample seed")


def out_dir(args: argparse.Namespace) -> Path:
    if args.out is not None:
        return Path(args.out)
    return QUICK_RESULTS_DIR if args.quick else RESULTS_DIR


def bench_settings(store_dir: Path, **overrides: Any) -> Settings:
    """The user's settings (models, chunking, threads), with a throw-away store."""
    return Settings(store_dir=store_dir, llm_backend="extractive", **overrides)


# -- machine and memory ----------------------------------------------------------------------
def _proc_status(key: str) -> float | None:
    """A kB value of /proc/self/status in MB (Linux); None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _maxrss_mb(who: int) -> float:
    value = resource.getrusage(who).ru_maxrss
    return value / (1024 * 1024) if sys.platform == "darwin" else value / 1024


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    value = _proc_status("VmRSS")
    return value if value is not None else _maxrss_mb(resource.RUSAGE_SELF)


def reset_peak_rss() -> bool:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak resident memory of this process since the last reset (or since start)."""
    value = _proc_status("VmHWM")
    return value if value is not None else _maxrss_mb(resource.RUSAGE_SELF)


def children_peak_rss_mb() -> float:
    """The largest peak RSS of any finished child process (e.g. the parser worker)."""
    return _maxrss_mb(resource.RUSAGE_CHILDREN)


def release_memory() -> None:
    """Collect garbage and hand free heap back to the OS (glibc), before reading RSS."""
    import contextlib
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def machine_info() -> dict[str, Any]:
    """nproc, CPU model, RAM and load: what a reader needs to compare runs."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 0
    versions = {}
    for name in ("torch", "sentence_transformers", "transformers", "chromadb", "onnxruntime"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            versions[name] = None
    return {
        "nproc": nproc,
        "cpu": cpu,
        "ram_gb": ram_gb,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def describe_machine(info: dict[str, Any], when: str = "at start") -> str:
    return (
        f"{info['nproc']} cores ({info['cpu']}), {info['ram_gb']} GB RAM, "
        f"load average {when} {info['load_avg'][0]}"
    )


# -- timing and statistics -------------------------------------------------------------------
class Timer:
    """``with Timer() as t: ...; t.seconds``."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def latency_stats(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean/max of durations, in milliseconds."""
    return {
        "n": len(seconds),
        "p50_ms": round(1000 * percentile(seconds, 50), 1),
        "p95_ms": round(1000 * percentile(seconds, 95), 1),
        "mean_ms": round(1000 * float(np.mean(seconds)), 1) if seconds else float("nan"),
        "max_ms": round(1000 * max(seconds), 1) if seconds else float("nan"),
    }


def ratio(ours: float | None, baseline: float | None) -> float | None:
    if ours is None or baseline is None or baseline == 0:
        return None
    return ours / baseline


# -- figures, tables and result files ------------------------------------------------------------
def figure(
    metric: str,
    ours: float | None,
    baseline: float | None = None,
    *,
    unit: str = "",
    goal: str = "",
    met: bool | None = None,
    baseline_name: str = "",
    note: str = "",
) -> dict[str, Any]:
    """One reported quantity: ours beside the baseline, their ratio, the goal."""
    return {
        "metric": metric,
        "unit": unit,
        "ours": ours,
        "baseline": baseline,
        "baseline_name": baseline_name,
        "ratio": ratio(ours, baseline),
        "goal": goal,
        "met": met,
        "note": note,
    }


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) >= 0.01 else f"{value:.2g}"
    return str(value)


FIGURE_HEADERS = ["metric", "ours", "baseline", "ratio", "goal", "met"]


def figure_rows(figures: Iterable[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for f in figures:
        unit = f" {f['unit']}" if f.get("unit") else ""
        base = fmt(f["baseline"]) + (unit if f["baseline"] is not None else "")
        if f.get("baseline_name") and f["baseline"] is not None:
            base += f" ({f['baseline_name']})"
        rows.append(
            [
                f["metric"],
                fmt(f["ours"]) + (unit if f["ours"] is not None else ""),
                base,
                fmt(f["ratio"]),
                f.get("goal") or "",
                "" if f.get("met") is None else fmt(bool(f["met"])),
            ]
        )
    return rows


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def render_markdown(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def esc(value: Any) -> str:
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in headers) + " |"]
    lines.append("| " + " | ".join("---" for _ in headers) + " |")
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def print_figures(title: str, figures: Sequence[dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(render_table(FIGURE_HEADERS, figure_rows(figures)))


def write_result(name: str, data: dict[str, Any], folder: Path) -> Path:
    """benchmarks/results/<name>.json, with the machine and the time of the run."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **data,
    }
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"\nwrote {path}")
    return path


def print_and_write(
    name: str, result: dict[str, Any], table: dict[str, Any], title: str, args: argparse.Namespace
) -> Path:
    """The end of a benchmark's run: print its table, notes and figures, write its result.

    Args:
        name: the benchmark's name, the result file's stem.
        result: its result; ``result["figures"]`` is printed under ``title``.
        table: its ``details(result)``: {"headers", "rows", "notes"}.
        args: its command line (``--out``, ``--quick``: where the file goes).

    Returns:
        The file written (see `write_result`).
    """
    print("\n" + render_table(table["headers"], table["rows"]))
    print("\n".join(table["notes"]))
    print_figures(title, result["figures"])
    return write_result(name, result, out_dir(args))


# -- data ---------------------------------------------------------------------------------------
def statute_index() -> list[tuple[str, int]]:
    """(id, bytes) of every statute in the corpus, sorted by id."""
    rows = (STATUTES / "index.tsv").read_text(encoding="utf-8").splitlines()[1:]
    out = []
    for row in rows:
        parts = row.split("\t")
        if len(parts) >= 4 and (STATUTES / f"{parts[0]}.md").is_file():
            out.append((parts[0], int(parts[3])))
    return sorted(out)


def statute_sample(
    n: int, seed: int = SEED, max_bytes: int | None = None, min_bytes: int = 1000
) -> list[Path]:
    """A seeded random sample of statute files; the sample of n is a prefix of that of n+1.

    Args:
        n: how many files (at most the number that pass the size filter).
        seed: the shuffle seed.
        max_bytes: leave out larger files (None: no limit).
        min_bytes: leave out near-empty files (repealed laws with a title only).
    """
    ids = [
        i
        for i, size in statute_index()
        if size >= min_bytes and (not max_bytes or size <= max_bytes)
    ]
    random.Random(seed).shuffle(ids)
    return [STATUTES / f"{i}.md" for i in ids[:n]]


def copy_files(paths: Iterable[Path], dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for p in paths:
        shutil.copy2(p, dest / p.name)
    return dest


def faq_data(tmp: Path, limit: int | None = None) -> tuple[Path, Path]:
    """The FAQ corpus folder and its gold set: eval/faq + eval/faq-dev.jsonl when they
    exist and no limit is asked, else converted from shared/ into tmp (same doc ids)."""
    if limit is None and (FAQ_CORPUS / "manifest.toml").is_file() and FAQ_DATASET.is_file():
        return FAQ_CORPUS, FAQ_DATASET
    from assistant.evaluation.faq import convert_faq

    return convert_faq(FAQ_SOURCE, tmp / "faq", tmp / "faq-dev.jsonl", limit=limit)


def documents_with_chunks(
    paths: Sequence[Path], settings: Settings
) -> Iterator[tuple[Document, list[Chunk]]]:
    """What ingest makes of these files, parsed in-process: each document and its chunks."""
    from ingest.manifest import discover
    from ingest.pipeline import version_hash, versioned_chunks
    from ingest.readers import load_document

    for path, meta in discover(list(paths)):
        doc = load_document(path, meta, settings)
        yield doc, versioned_chunks(doc, settings, version_hash(doc, settings))


def texts_to_embed(docs: Iterable[tuple[Document, list[Chunk]]]) -> list[str]:
    """The texts ingest embeds for these documents into an empty store, in its order:
    a chunk whose text an earlier document already had reuses that vector."""
    from assistant.embeddings import embedding_text

    seen: set[str] = set()
    texts = []
    for _doc, chunks in docs:
        texts += [
            embedding_text(c.title, c.section, c.text) for c in chunks if c.content_hash not in seen
        ]
        seen.update(c.content_hash for c in chunks)
    return texts


def load_embedder(settings: Settings) -> tuple[Any, float]:
    """The process-wide embedder for these settings, warmed up, and its load time."""
    from assistant.embeddings import get_embedder

    with Timer() as t:
        embedder = get_embedder(settings)
        embedder.encode_documents(["Opwarmen van het model.", "Artikel 1 van deze wet."])
        embedder.encode_queries(["Wat mag de burgemeester?"])
    return embedder, t.seconds


# -- retrieval quality -------------------------------------------------------------------------
def evaluate_retrieval(
    search: Callable[[str], Sequence[str]], items: Sequence[Any], k: int = 10
) -> dict[str, Any]:
    """Doc-level recall@5, MRR and hit@1 (over the top k) of one search function.

    Args:
        search: question → doc ids of the ranked passages (one per passage, best first).
        items: answerable EvalItems with gold sources.
        k: how many passages to rank.
    """
    return evaluate_retrievers({"only": search}, items, k)["only"]


def evaluate_retrievers(
    searches: dict[str, Callable[[str], Sequence[str]]], items: Sequence[Any], k: int = 10
) -> dict[str, dict[str, Any]]:
    """`evaluate_retrieval` for several search functions, interleaved question by question
    (the order rotates), so that a change in machine load hits all of them alike."""
    from assistant.evaluation.metrics import Located, recall_at, reciprocal_rank

    names = list(searches)
    scores: dict[str, dict[str, list[float]]] = {
        n: {"recall": [], "rr": [], "hit1": [], "seconds": []} for n in names
    }
    for i, item in enumerate(items):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            t = time.perf_counter()
            doc_ids = list(searches[name](item.question))[:k]
            s = scores[name]
            s["seconds"].append(time.perf_counter() - t)
            ranked = [Located(d) for d in doc_ids]
            s["recall"].append(recall_at(ranked, item.sources, 5, level="doc"))
            s["rr"].append(reciprocal_rank(ranked, item.sources, level="doc"))
            s["hit1"].append(recall_at(ranked, item.sources, 1, level="doc", mode="any"))

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else float("nan")

    return {
        name: {
            "questions": len(items),
            "recall@5": mean(s["recall"]),
            "mrr": mean(s["rr"]),
            "hit@1": mean(s["hit1"]),
            "latency": latency_stats(s["seconds"]),
        }
        for name, s in scores.items()
    }


def gold_items(dataset: Path) -> list[Any]:
    from assistant.evaluation.dataset import load_dataset

    return [i for i in load_dataset(dataset) if i.answerable and i.sources]
