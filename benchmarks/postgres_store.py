"""The PostgreSQL back end against the embedded SQLite one, measured in one run.

1. Ranking quality: the FAQ dev set (eval/faq-dev.jsonl over eval/faq/, doc level) and
   the two statute sets (eval/wetten-burgemeester.jsonl, eval/wetten-artikelen.jsonl,
   article level; six safety statutes plus 14 distractors, as retrieval_quality.py).
   Keyword MRR (``Store.keyword_search``, top 10): both back ends are given the very same
   chunks (chunked as ingest chunks them, no vectors). With ``--hybrid`` also hybrid MRR:
   each corpus is then ingested into a SQLite store with the real embedding model and its
   catalog copied into PostgreSQL (assistant.store.pg_migrate), both searching the same
   Chroma vectors.
2. Latency at N chunks (default 100,000), SQLite vs PostgreSQL, interleaved per
   question: keyword search p95 (``Store.keyword_search`` for the retriever's candidate
   count: the keyword index alone) and hybrid ``Retriever.search`` p95 (both searches in
   parallel, version check, fusion, neighbours). The texts are real statute chunks
   (past the end of the corpus the statutes are used again under new ids, as
   query_latency.py does); the vectors are RANDOM unit vectors and the query "embedder"
   is a STAND-IN that returns a random unit vector at once: the dense half costs what a
   Chroma query costs but finds nothing meaningful, and the model's query embedding (the
   same for both back ends) is left out, so the ratio shows the store difference alone.
   Both stores share one Chroma collection. PostgreSQL runs with its default settings
   (fsync on) after VACUUM ANALYZE (what autovacuum does after a bulk load); SQLite as
   the app runs it.

    python benchmarks/postgres_store.py [--size 100000] [--queries 100] [--hybrid]
        [--stores DIR] [--skip-quality] [--skip-latency]

Goals: MRR within 0.01 of SQLite on each set; p95 PostgreSQL/SQLite ≤ 1.5.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.evaluation.dataset import load_dataset
from assistant.retrieval import Retriever
from assistant.settings import REPO_ROOT, Settings
from assistant.store import Store
from assistant.store.pg_migrate import copy_sqlite_catalog
from assistant.store.sqlite import SqliteDatabase
from benchmarks.common import (
    Timer,
    documents_with_chunks,
    latency_stats,
    load_embedder,
    machine_info,
    ratio,
)
from benchmarks.retrieval_quality import SAFETY_LAWS, STATUTES, distractors, is_hit, score
from benchmarks.statute_workload import chunk_stream, questions
from ingest.pipeline import ingest_paths
from tests.postgres_server import postgres_server

NAME = "postgres_store"
MRR_TOLERANCE = 0.01
P95_GOAL = 1.5


def paired_stores(settings: Settings, url: str) -> tuple[Store, Store, Settings]:
    """The SQLite store of ``settings`` and a PostgreSQL store (schema ``url``) that
    shares its Chroma vectors."""
    lite = Store(settings)
    pg_settings = settings.model_copy(update={"database_url": SecretStr(url)})
    return lite, Store(pg_settings, vectors=lite.vectors), pg_settings


def _sets() -> tuple[dict[str, list[Path]], list[tuple[str, str, Path, str]]]:
    laws = [STATUTES / f"{d}.md" for d in SAFETY_LAWS] + distractors(14)
    corpora = {"faq": [REPO_ROOT / "eval" / "faq"], "statutes": laws}
    sets = [("faq", "faq", REPO_ROOT / "eval" / "faq-dev.jsonl", "doc"),
            ("statutes", "statutes", REPO_ROOT / "eval" / "wetten-burgemeester.jsonl", "section"),
            ("statute_references", "statutes", REPO_ROOT / "eval" / "wetten-artikelen.jsonl",
             "section")]  # fmt: skip
    return corpora, sets


def keyword_score(store: Store, items: list[Any], level: str) -> dict[str, float]:
    """hit@1, recall@5 and MRR of the keyword index alone (top 10)."""
    hits1 = hits5 = rr = 0.0
    for item in items:
        found = [SimpleNamespace(chunk=c) for c, _ in store.keyword_search(item.question, 10)]
        ranks = [i for i, p in enumerate(found, start=1) if is_hit(p, item, level)]
        if ranks:
            hits1 += ranks[0] == 1
            hits5 += ranks[0] <= 5
            rr += 1.0 / ranks[0]
    n = len(items)
    return {"hit@1": hits1 / n, "recall@5": hits5 / n, "mrr": rr / n}


def _compare(a: dict[str, float], b: dict[str, float]) -> dict[str, Any]:
    diff = b["mrr"] - a["mrr"]
    return {"sqlite": a, "postgres": b, "mrr_diff": round(diff, 4),
            "met": abs(diff) <= MRR_TOLERANCE}  # fmt: skip


def quality(server: Any, root: Path, embedder: Any | None) -> dict[str, Any]:
    """Keyword MRR on both back ends over the same chunks; hybrid too with an embedder."""
    corpora, sets = _sets()
    stores: dict[str, tuple[Store, Store, Any]] = {}
    for name, paths in corpora.items():
        settings = Settings(store_dir=root / f"chunks-{name}")
        lite, pg, _ = paired_stores(settings, server.new_schema())
        if not lite.count_chunks():
            for doc, chunks in documents_with_chunks(paths, settings):
                for store in (lite, pg):
                    with store.catalog.transaction():
                        store.keywords.add(store.catalog.add_chunks(chunks, [None] * len(chunks)))
                    store.catalog.commit(doc, chunks[0].doc_hash, len(chunks))
        hybrid = None
        if embedder is not None:
            full = Settings(store_dir=root / name)
            report = ingest_paths(paths, full, embedder=embedder)
            assert report.ok, report.failed
            lite_h, pg_h, pg_settings = paired_stores(full, server.new_schema())
            copy_sqlite_catalog(SqliteDatabase(full.catalog_path), pg_h)
            hybrid = (Retriever(full, lite_h, embedder), Retriever(pg_settings, pg_h, embedder))
        print(f"{name}: {lite.count_chunks()} chunks", flush=True)
        stores[name] = (lite, pg, hybrid)
    out: dict[str, Any] = {}
    for name, corpus, dataset, level in sets:
        lite, pg, hybrid = stores[corpus]
        items = [i for i in load_dataset(dataset) if i.answerable]
        res: dict[str, Any] = {"chunks": lite.count_chunks(), "questions": len(items)}
        res["keyword"] = _compare(
            keyword_score(lite, items, level), keyword_score(pg, items, level)
        )
        if hybrid is not None:
            a, b = (score(r, items, "hybrid", level) for r in hybrid)
            res["hybrid"] = _compare(a, b)
        out[name] = res
    return out


class RandomQueryEmbedder:
    """STAND-IN for the embedding model in the latency part: a seeded random unit vector
    per query, at once (the model's time is the same for both back ends)."""

    def __init__(self, dim: int = 768, seed: int = 5) -> None:
        self.dim = dim
        self.rng = np.random.default_rng(seed)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        vecs = self.rng.normal(size=(len(texts), self.dim)).astype(np.float32)
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def fill(lite: Store, pg: Store, settings: Settings, size: int, seed: int = 11) -> dict[str, Any]:
    """Write the same `size` chunks into both stores, in batches of documents."""
    rng = np.random.default_rng(seed)
    stream = chunk_stream(settings, seed)
    count = documents = 0
    seconds = {"sqlite": 0.0, "postgres": 0.0, "chroma": 0.0}
    while count < size:
        batch = []
        while count < size and sum(len(c) for _, c in batch) < 2000:
            doc, chunks = next(stream)
            chunks = chunks[: size - count]
            batch.append((doc, chunks))
            count += len(chunks)
        documents += len(batch)
        for label, store in (("sqlite", lite), ("postgres", pg)):
            with Timer() as t:
                with store.catalog.transaction():
                    for _, chunks in batch:
                        added = store.catalog.add_chunks(chunks, [None] * len(chunks))
                        store.keywords.add(added)
                for doc, chunks in batch:
                    store.catalog.commit(doc, chunks[0].doc_hash, len(chunks))
            seconds[label] += t.seconds
        every = [c for _, chunks in batch for c in chunks]
        vectors = rng.normal(size=(len(every), 768)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with Timer() as t:
            lite.vectors.upsert(every, vectors)
        seconds["chroma"] += t.seconds
        print(f"  {count} chunks", flush=True)
    return {"chunks": count, "documents": documents,
            "write_s": {k: round(v, 1) for k, v in seconds.items()}}  # fmt: skip


def latency(server: Any, root: Path, size: int, n: int) -> dict[str, Any]:
    settings = Settings(store_dir=root / f"latency-{size}")
    lite, pg, pg_settings = paired_stores(settings, server.new_schema())
    filled = fill(lite, pg, settings, size) if lite.count_chunks() < size else {}
    pg_db = pg.catalog.db  # type: ignore[attr-defined]
    with Timer() as t:  # what autovacuum does after a bulk load
        pg_db.connection().execute(
            "VACUUM ANALYZE kw_postings, kw_docs, kw_stats, chunks, documents"
        )
    print(f"  VACUUM ANALYZE {t.seconds:.1f} s", flush=True)
    embedder = RandomQueryEmbedder()
    retrievers = {"sqlite": Retriever(settings, lite, embedder),
                  "postgres": Retriever(pg_settings, pg, embedder)}  # fmt: skip
    qs = questions(n)
    times: dict[str, dict[str, list[float]]] = {
        mode: {b: [] for b in retrievers} for mode in ("keyword", "hybrid")
    }
    for mode in times:
        for q in qs[:5]:  # warm-up: caches of both databases, Chroma and the model
            for r in retrievers.values():
                r.search(q, k=5, mode=mode)
        for i, q in enumerate(qs):
            order = list(retrievers) if i % 2 == 0 else list(reversed(retrievers))
            for backend in order:
                r = retrievers[backend]
                start = time.perf_counter()
                if mode == "keyword":  # the keyword index alone, as the retriever asks it
                    r.store.keyword_search(q, max(settings.candidates, 5))
                else:
                    r.search(q, k=5, mode=mode)
                times[mode][backend].append(time.perf_counter() - start)
    out: dict[str, Any] = {"size": lite.count_chunks(), "queries": n, "fill": filled}
    for mode, by in times.items():
        stats = {b: latency_stats(v) for b, v in by.items()}
        p95 = ratio(stats["postgres"]["p95_ms"], stats["sqlite"]["p95_ms"])
        out[mode] = {**stats, "p95_ratio": p95, "met": p95 is not None and p95 <= P95_GOAL}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--stores", type=Path, help="keep the SQLite stores in this folder")
    parser.add_argument("--hybrid", action="store_true", help="also hybrid MRR (embeds)")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    # A timeout's SIGTERM unwinds like an error, so the PostgreSQL cluster is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result: dict[str, Any] = {"machine": machine_info()}
    embedder = load_embedder(Settings())[0] if args.hybrid and not args.skip_quality else None
    with tempfile.TemporaryDirectory() as tmp, postgres_server(fast=False) as server:
        root = args.stores or Path(tmp)
        if not args.skip_quality:
            result["quality"] = quality(server, root, embedder)
            print(json.dumps(result["quality"], indent=1))
        if not args.skip_latency:
            result["latency"] = latency(server, root, args.size, args.queries)
            print(json.dumps(result["latency"], indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{NAME}.json"
    if path.exists():  # a partial run keeps the other part's last numbers
        result = {**json.loads(path.read_text()), **result}
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
