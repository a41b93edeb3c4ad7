"""Ingest speed: `ingest_paths` against the embedding model alone on the same chunk texts.

For each size N, N statutes (a seeded sample of /work/shared/corpora/nl-wetten-2017) are
copied to a temp folder and ingested into a fresh store. The baseline is the time the same
Embedder needs for exactly the texts ingest embeds (discover + load_document +
versioned_chunks + embedding_text, in one `encode_documents` call at the configured batch
size). Then, on the store of `--reingest-size` documents, an unchanged re-ingest, and on
the store of `--change-size` documents, a re-ingest after one document changed.

    python benchmarks/ingest.py [--sizes 10,100[,1000]] [--change-size 100] [--quick]
        [--pdfs DIR]   # also the text PDFs in DIR (e.g. ../shared/corpora/real-pdfs)

Goals: ingest time ≤ 1.15 × embedding time; unchanged re-ingest of 100 documents embeds
nothing and takes ≤ 2 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    Timer,
    add_common_args,
    bench_settings,
    children_peak_rss_mb,
    copy_files,
    documents_with_chunks,
    figure,
    load_embedder,
    parse_sizes,
    peak_rss_mb,
    print_and_write,
    reset_peak_rss,
    rss_mb,
    statute_sample,
    texts_to_embed,
)

NAME = "ingest"
RATIO_GOAL = 1.15
REINGEST_GOAL_S = 2.0
CHANGE_MARK = "Deze zin is toegevoegd om een gewijzigde versie van het document te meten."


def change_one_document(path: Path) -> None:
    """Insert one sentence into the middle paragraph of a file (an amended article)."""
    text = path.read_text(encoding="utf-8")
    paragraphs = text.split("\n\n")
    middle = len(paragraphs) // 2
    paragraphs[middle] = paragraphs[middle].rstrip() + " " + CHANGE_MARK
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")


def measure_size(
    n: int, files: list[Path], root: Path, embedder: Any, repeat: int = 1
) -> tuple[dict[str, Any], Path, Any]:
    """Ingest n files into a fresh store and embed the same texts alone, `repeat` times
    in alternating order; the fastest run of each counts (the least disturbed one)."""
    from ingest.pipeline import ingest_paths

    corpus = copy_files(files[:n], root / f"corpus-{n}")
    settings = bench_settings(root / f"store-{n}")
    docs = list(documents_with_chunks([corpus], settings))
    texts = texts_to_embed(docs)
    n_bytes = sum(p.stat().st_size for p in corpus.iterdir())

    base_runs: list[tuple[float, float]] = []  # (seconds, peak RSS)
    ingest_runs: list[tuple[float, float, Any, Any]] = []  # (seconds, peak, report, settings)
    for r in range(repeat):
        for step in ("base", "ingest") if r % 2 == 0 else ("ingest", "base"):
            reset_peak_rss()
            if step == "base":
                with Timer() as t:
                    embedder.encode_documents(texts)
                base_runs.append((t.seconds, peak_rss_mb()))
            else:
                run_settings = bench_settings(root / f"store-{n}-{r}")
                report = ingest_paths([corpus], run_settings, embedder=embedder)
                ingest_runs.append((report.seconds, peak_rss_mb(), report, run_settings))
    base_s, base_peak = min(base_runs)
    ingest_s, ingest_peak, report, settings = min(ingest_runs, key=lambda x: x[0])
    if report.failed:
        print(f"  {len(report.failed)} files failed, e.g. {report.failed[0]}")
    row = {
        "documents": n,
        "bytes": n_bytes,
        "pages": report.pages,
        "chunks_written": report.chunks_written,
        "chunks_embedded": report.chunks_embedded,
        "texts_embedded_by_baseline": len(texts),
        "failed": len(report.failed),
        "ingest_s": round(ingest_s, 3),
        "embed_only_s": round(base_s, 3),
        "ratio": round(ingest_s / base_s, 3) if base_s else None,
        "runs": {
            "ingest_s": [round(x[0], 3) for x in ingest_runs],
            "embed_only_s": [round(x[0], 3) for x in base_runs],
        },
        "stage_s": {k: round(v, 3) for k, v in report.stage_seconds.items()},
        "chunks_per_s": round(report.chunks_written / ingest_s, 2),
        "pages_per_s": round(report.pages / ingest_s, 2),
        "embed_only_chunks_per_s": round(len(texts) / base_s, 2) if base_s else None,
        "peak_rss_mb_ingest": round(ingest_peak, 1),
        "peak_rss_mb_embed_only": round(base_peak, 1),
        "peak_rss_mb_parser_child": round(children_peak_rss_mb(), 1),
    }
    return row, corpus, settings


def build_store(n: int, files: list[Path], root: Path, embedder: Any) -> tuple[Path, Any, dict]:
    """A store of n files for the re-ingest figures only: ingested once, no baseline."""
    from ingest.pipeline import ingest_paths

    corpus = copy_files(files[:n], root / f"corpus-{n}")
    settings = bench_settings(root / f"store-{n}")
    report = ingest_paths([corpus], settings, embedder=embedder)
    row = {
        "documents": n,
        "pages": report.pages,
        "chunks_written": report.chunks_written,
        "chunks_embedded": report.chunks_embedded,
        "ingest_s": round(report.seconds, 3),
        "chunks_per_s": round(report.chunks_written / report.seconds, 2),
    }
    return corpus, settings, row


def reingest(corpus: Path, settings: Any, embedder: Any) -> dict[str, Any]:
    from ingest.pipeline import ingest_paths

    report = ingest_paths([corpus], settings, embedder=embedder)
    return {
        "seconds": round(report.seconds, 3),
        "chunks_embedded": report.chunks_embedded,
        "chunks_reused": report.chunks_reused,
        "chunks_written": report.chunks_written,
        "unchanged": len(report.unchanged),
        "updated": len(report.updated),
        "stage_s": {k: round(v, 3) for k, v in report.stage_seconds.items()},
    }


def _samples(
    sizes: list[int], store_only: list[int], max_doc_kb: float, seed: int, store_max_doc_kb: float
) -> tuple[list[Path], list[Path]]:
    """The statutes to ingest: (the sample for `sizes`, the smaller statutes for the
    re-ingest stores of `store_only` sizes, empty without those).

    Raises:
        SystemExit: too few statutes pass a size filter.
    """
    max_bytes = int(max_doc_kb * 1024) if max_doc_kb else None
    files = statute_sample(max(sizes), seed=seed, max_bytes=max_bytes)
    if len(files) < max(sizes):
        raise SystemExit(f"only {len(files)} statutes pass the size filter; lower --sizes")
    store_files: list[Path] = []
    if store_only:  # re-ingest stores of a size not measured above: smaller statutes
        store_files = statute_sample(
            max(store_only), seed=seed, max_bytes=int(store_max_doc_kb * 1024)
        )
        if len(store_files) < max(store_only):
            raise SystemExit(f"only {len(store_files)} statutes ≤ {store_max_doc_kb:g} KB")
    return files, store_files


def _size_figures(n: int, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures of one size: ingest / embedding time, throughput and peak RSS."""
    return [
        ratio_figure(f"{n} statutes ({row['chunks_embedded']} chunks)", row),
        figure(
            f"ingest throughput, {n} statutes",
            row["chunks_per_s"],
            row["embed_only_chunks_per_s"],
            unit="chunks/s",
            baseline_name="embedding alone",
            note=f"{row['pages_per_s']} pages/s; peak RSS {row['peak_rss_mb_ingest']} MB",
        ),
        figure(
            f"peak RSS during ingest, {n} statutes",
            row["peak_rss_mb_ingest"],
            row["peak_rss_mb_embed_only"],
            unit="MB",
            baseline_name="embedding alone",
        ),
    ]


def _unchanged_reingest(
    store: tuple[Path, Any, dict[str, Any]], n: int, embedder: Any, result: dict[str, Any]
) -> list[dict[str, Any]]:
    """Re-ingest an unchanged store of n statutes: put result["unchanged_reingest"],
    return its figures (time, chunks embedded) against the first ingest."""
    corpus, settings, full = store
    print(f"\n[{n} documents] unchanged re-ingest ...", flush=True)
    again = reingest(corpus, settings, embedder)
    result["unchanged_reingest"] = {"documents": n, **again}
    return [
        figure(
            f"unchanged re-ingest of {n} statutes: time",
            again["seconds"],
            full["ingest_s"],
            unit="s",
            goal=f"≤ {REINGEST_GOAL_S:g} s",
            met=again["seconds"] <= REINGEST_GOAL_S,
            baseline_name="first ingest",
        ),
        figure(
            f"unchanged re-ingest of {n} statutes: chunks embedded",
            again["chunks_embedded"],
            full["chunks_embedded"],
            goal="0",
            met=again["chunks_embedded"] == 0,
            baseline_name="first ingest",
        ),
    ]


def _one_document_changed(
    store: tuple[Path, Any, dict[str, Any]], n: int, embedder: Any, result: dict[str, Any]
) -> list[dict[str, Any]]:
    """Change the largest statute of a store of n and re-ingest: put
    result["one_document_changed"], return its figures (time against the first ingest,
    chunks embedded against that statute's chunks)."""
    corpus, settings, full = store
    changed = max(corpus.iterdir(), key=lambda p: p.stat().st_size)
    print(f"\n[{n} documents] one document changed ({changed.name}) ...", flush=True)
    change_one_document(changed)
    doc_chunks = sum(len(chunks) for _d, chunks in documents_with_chunks([changed], settings))
    after = reingest(corpus, settings, embedder)
    result["one_document_changed"] = {
        "documents": n,
        "changed": changed.stem,
        "changed_document_chunks": doc_chunks,
        **after,
    }
    return [
        figure(
            f"re-ingest after 1 of {n} statutes changed: time"
            + (f" ({full['chunks_written']} chunks in the store)"),
            after["seconds"],
            full["ingest_s"],
            unit="s",
            baseline_name="first ingest",
        ),
        figure(
            f"re-ingest after 1 of {n} statutes changed: chunks embedded",
            after["chunks_embedded"],
            doc_chunks,
            baseline_name="chunks of that document",
        ),
    ]


def run(
    sizes: list[int],
    reingest_size: int,
    change_size: int,
    max_doc_kb: float,
    seed: int,
    repeat: int = 1,
    store_max_doc_kb: float = 5.0,
    pdfs: Path | None = None,
) -> dict[str, Any]:
    sizes = sorted(set(sizes))
    store_only = sorted({reingest_size, change_size} - set(sizes))
    files, store_files = _samples(sizes, store_only, max_doc_kb, seed, store_max_doc_kb)
    print(
        f"ingest benchmark: sizes {sizes}, seeded sample (seed {seed}) of statutes "
        + (f"≤ {max_doc_kb:g} KB" if max_doc_kb else "of any size")
    )
    embedder, load_s = load_embedder(bench_settings(Path(tempfile.gettempdir()) / "unused"))
    print(f"embedder loaded in {load_s:.1f} s, precision {embedder.precision}")
    result: dict[str, Any] = {
        "embedder": {
            "precision": embedder.precision,
            "batch_size": embedder.batch_size,
            "load_s": round(load_s, 2),
            "rss_mb_after_load": round(rss_mb(), 1),
        },
        "sample": {"seed": seed, "max_doc_kb": max_doc_kb or None},
        "store_only_sample": (
            {"sizes": store_only, "max_doc_kb": store_max_doc_kb} if store_only else None
        ),
        "repeat": repeat,
        "sizes": [],
    }
    figures = []
    with tempfile.TemporaryDirectory(prefix="ivb-bench-ingest-") as tmp:
        root = Path(tmp)
        stores: dict[int, tuple[Path, Any, dict[str, Any]]] = {}
        for n in sizes:
            print(f"\n[{n} documents] embedding alone, then ingest_paths ...", flush=True)
            row, corpus, settings = measure_size(n, files, root, embedder, repeat)
            stores[n] = (corpus, settings, row)
            result["sizes"].append(row)
            print(
                f"  ingest {row['ingest_s']:.1f} s, embedding alone {row['embed_only_s']:.1f} s, "
                f"ratio {row['ratio']}; {row['chunks_written']} chunks, stages {row['stage_s']}"
            )
            figures += _size_figures(n, row)

        if pdfs is not None:
            figures += measure_pdfs(pdfs, root / "pdfs", embedder, repeat, result)

        for n in store_only:
            print(f"\n[{n} documents ≤ {store_max_doc_kb:g} KB] building a store ...", flush=True)
            corpus, settings, row = build_store(n, store_files, root / "store-only", embedder)
            stores[n] = (corpus, settings, row)
            result.setdefault("store_only", []).append(row)
            print(f"  {row['chunks_written']} chunks in {row['ingest_s']:.1f} s")

        figures += _unchanged_reingest(stores[reingest_size], reingest_size, embedder, result)
        figures += _one_document_changed(stores[change_size], change_size, embedder, result)
    result["figures"] = figures
    return result


def measure_pdfs(
    folder: Path, root: Path, embedder: Any, repeat: int, result: dict[str, Any]
) -> list[dict[str, Any]]:
    """The ingest/embedding ratio on the PDFs in `folder` (the reader's layout work, OCR
    of pages without text included), added to result["pdfs"]; returns its figures."""
    files = sorted(folder.glob("*.pdf"))
    print(f"\n[{len(files)} PDFs from {folder}] embedding alone, then ingest_paths ...", flush=True)
    root.mkdir(parents=True, exist_ok=True)
    row, _corpus, _settings = measure_size(len(files), files, root, embedder, repeat)
    row["folder"] = str(folder)
    result["pdfs"] = row
    print(
        f"  ingest {row['ingest_s']:.1f} s, embedding alone {row['embed_only_s']:.1f} s, "
        f"ratio {row['ratio']}; {row['pages']} pages, stages {row['stage_s']}"
    )
    what = f"{len(files)} PDFs ({row['pages']} pages, {row['chunks_embedded']} chunks)"
    return [ratio_figure(what, row, note=f"{row['pages_per_s']} pages/s")]


def ratio_figure(what: str, row: dict[str, Any], note: str = "") -> dict[str, Any]:
    """The goal figure of one measured corpus: ingest time against embedding alone."""
    return figure(
        f"ingest time / embedding-only time, {what}",
        row["ingest_s"],
        row["embed_only_s"],
        unit="s",
        goal=f"ratio ≤ {RATIO_GOAL}",
        met=row["ratio"] is not None and row["ratio"] <= RATIO_GOAL,
        baseline_name="embedding alone",
        note=note,
    )


def details(result: dict[str, Any]) -> dict[str, Any]:
    """The per-size table and notes (printed here, and put in summary.md by run.py)."""
    headers = [
        "docs",
        "pages",
        "chunks",
        "embedded",
        "ingest s",
        "embed-only s",
        "ratio",
        "chunks/s",
        "pages/s",
        "peak RSS MB",
        "stages s",
    ]
    rows = [
        [
            r["documents"],
            r["pages"],
            r["chunks_written"],
            r["chunks_embedded"],
            r["ingest_s"],
            r["embed_only_s"],
            r["ratio"],
            r["chunks_per_s"],
            r["pages_per_s"],
            r["peak_rss_mb_ingest"],
            " ".join(f"{k}={v:g}" for k, v in r["stage_s"].items()),
        ]
        for r in result["sizes"]
    ]
    sample = result["sample"]
    limit = f"≤ {sample['max_doc_kb']:g} KB" if sample["max_doc_kb"] else "of any size"
    notes = [
        f"Statutes: seeded sample (seed {sample['seed']}) of nl-wetten-2017 files {limit}; "
        f"embedder {result['embedder']['precision']}, batch {result['embedder']['batch_size']}."
    ]
    return {"headers": headers, "rows": rows, "notes": notes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help="documents per ingest run (default 10,100; 1000 is opt-in)",
    )
    parser.add_argument(
        "--reingest-size",
        type=int,
        default=None,
        help="store size for the unchanged re-ingest (default 100)",
    )
    parser.add_argument(
        "--change-size",
        type=int,
        default=None,
        help="store size for the one-document change (default 100)",
    )
    parser.add_argument(
        "--max-doc-kb",
        type=float,
        default=16.0,
        help="sample statutes up to this size (0: any size; default 16)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure each size this many times (alternating order); the fastest counts",
    )
    parser.add_argument(
        "--store-max-doc-kb",
        type=float,
        default=5.0,
        help="statute size limit for a re-ingest/change store not in --sizes (default 5)",
    )
    parser.add_argument(
        "--pdfs",
        type=Path,
        default=None,
        help="also measure the PDFs in this folder (e.g. ../shared/corpora/real-pdfs)",
    )
    args = parser.parse_args(argv)
    default_sizes, default_small = ([2, 5], 5) if args.quick else ([10, 100], 100)
    result = run(
        sizes=args.sizes or default_sizes,
        reingest_size=args.reingest_size or default_small,
        change_size=args.change_size or default_small,
        max_doc_kb=args.max_doc_kb,
        seed=args.seed,
        repeat=args.repeat,
        store_max_doc_kb=args.store_max_doc_kb,
        pdfs=args.pdfs,
    )
    result["quick"] = args.quick
    print_and_write(NAME, result, details(result), "ingest: ours vs baseline", args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
