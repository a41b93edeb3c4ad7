"""The naive LangChain RAG baseline, and our retrieval against it on the FAQ dev set.

The baseline is what a LangChain tutorial builds: the raw files split by
RecursiveCharacterTextSplitter(1000, 200), one plain Chroma collection (chromadb
directly, default distance, no metadata filters), the same embedding model, dense top-k,
no BM25, no headings in the embedded text. Ours: `ingest_paths` + the hybrid `Retriever`.
Both are measured on the same corpus, questions and Embedder in one run: doc-level
recall@5 and MRR, query latency, and indexing time.

    python benchmarks/baseline.py [--faq-limit N] [--quick]

Other benchmarks import `NaiveRetriever` / `build_naive_index`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    Timer,
    add_common_args,
    bench_settings,
    evaluate_retrievers,
    faq_data,
    figure,
    fmt,
    gold_items,
    load_embedder,
    print_and_write,
)

NAME = "baseline"
CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200


class NaiveRetriever(BaseRetriever):
    """Dense top-k over one Chroma collection, behind LangChain's retriever interface."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    collection: Any
    embeddings: Any  # a LangChain Embeddings
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        res = self.collection.query(
            query_embeddings=[self.embeddings.embed_query(query)],
            n_results=min(self.k, self.collection.count()),
            include=["documents", "metadatas", "distances"],
        )
        return [
            LCDocument(page_content=text, metadata={**meta, "distance": dist})
            for text, meta, dist in zip(
                res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True
            )
        ]


@dataclass
class NaiveIndex:
    """A built baseline index and what building it cost."""

    collection: Any
    client: Any
    chunks: int
    documents: int
    seconds: float
    embed_seconds: float

    def retriever(self, embeddings: Any, k: int = 5) -> NaiveRetriever:
        return NaiveRetriever(collection=self.collection, embeddings=embeddings, k=k)


def build_naive_index(
    folder: Path,
    embeddings: Any,
    chroma_dir: Path,
    chunk_size: int = CHUNK_SIZE,
    chunk_overlap: int = CHUNK_OVERLAP,
) -> NaiveIndex:
    """Split the raw files of a corpus folder, embed every piece, add them to Chroma.

    Args:
        folder: a corpus folder; its manifest only names each file's document id.
        embeddings: a LangChain Embeddings (here our Embedder, so the model is the same).
        chroma_dir: where the Chroma collection is written.
        chunk_size: characters per piece.
        chunk_overlap: characters shared by neighbouring pieces.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ingest.manifest import discover

    with Timer() as total:
        entries = discover([folder])
        texts = [path.read_text(encoding="utf-8", errors="replace") for path, _ in entries]
        metadatas = [{"doc_id": meta.doc_id, "source": str(path)} for path, meta in entries]
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size, chunk_overlap=chunk_overlap
        )
        docs = splitter.create_documents(texts, metadatas=metadatas)
        with Timer() as embed:
            vectors = embeddings.embed_documents([d.page_content for d in docs])
        client = chromadb.PersistentClient(
            path=str(chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
        )
        collection = client.get_or_create_collection("naive", embedding_function=None)
        batch = int(client.get_max_batch_size())
        for start in range(0, len(docs), batch):
            part = docs[start : start + batch]
            collection.add(
                ids=[f"c{start + i}" for i in range(len(part))],
                embeddings=vectors[start : start + batch],
                documents=[d.page_content for d in part],
                metadatas=[d.metadata for d in part],
            )
    return NaiveIndex(collection, client, len(docs), len(entries), total.seconds, embed.seconds)


def _search_all(retriever: Any, naive: Any, items: list[Any]) -> dict[str, dict[str, Any]]:
    """Ours hybrid, ours dense and the naive baseline on every question, interleaved:
    {"hybrid", "dense", "naive"} → `evaluate_retrievers` scores (top 10)."""
    for item in items[:2]:  # warm-up
        retriever.search(item.question, k=10)
        naive.invoke(item.question)
    print("searching: ours hybrid, ours dense, baseline (interleaved) ...", flush=True)
    return evaluate_retrievers(
        {
            "hybrid": lambda q: [p.chunk.doc_id for p in retriever.search(q, k=10)],
            "dense": lambda q: [p.chunk.doc_id for p in retriever.search(q, k=10, mode="dense")],
            "naive": lambda q: [d.metadata["doc_id"] for d in naive.invoke(q)],
        },
        items,
    )


def _figures(
    scores: dict[str, dict[str, Any]], ours_index: dict[str, Any], naive_index: dict[str, Any]
) -> list[dict[str, Any]]:
    """Recall@5 and MRR (hybrid, against a goal; dense only), search latency p50/p95 and
    indexing time, ours against the naive baseline."""
    hybrid, dense, baseline = scores["hybrid"], scores["dense"], scores["naive"]
    name = "naive LangChain"
    return [
        figure(
            "FAQ doc recall@5 (ours hybrid)",
            round(hybrid["recall@5"], 4),
            round(baseline["recall@5"], 4),
            baseline_name=name,
            goal="≥ baseline",
            met=hybrid["recall@5"] >= baseline["recall@5"],
        ),
        figure(
            "FAQ doc MRR (ours hybrid)",
            round(hybrid["mrr"], 4),
            round(baseline["mrr"], 4),
            baseline_name=name,
            goal="≥ baseline",
            met=hybrid["mrr"] >= baseline["mrr"],
        ),
        figure(
            "FAQ doc recall@5 (ours dense only)",
            round(dense["recall@5"], 4),
            round(baseline["recall@5"], 4),
            baseline_name=name,
        ),
        figure(
            "FAQ doc MRR (ours dense only)",
            round(dense["mrr"], 4),
            round(baseline["mrr"], 4),
            baseline_name=name,
        ),
        figure(
            "query latency p50 (ours hybrid)",
            hybrid["latency"]["p50_ms"],
            baseline["latency"]["p50_ms"],
            unit="ms",
            baseline_name=name,
        ),
        figure(
            "query latency p95 (ours hybrid)",
            hybrid["latency"]["p95_ms"],
            baseline["latency"]["p95_ms"],
            unit="ms",
            baseline_name=name,
        ),
        figure(
            f"indexing the FAQ corpus ({ours_index['chunks']} vs {naive_index['chunks']} chunks)",
            ours_index["seconds"],
            naive_index["seconds"],
            unit="s",
            baseline_name=name,
        ),
    ]


def run(faq_limit: int | None) -> dict[str, Any]:
    from assistant.retrieval import Retriever
    from assistant.store import Store
    from ingest.pipeline import ingest_paths

    with tempfile.TemporaryDirectory(prefix="ivb-bench-baseline-") as tmp:
        root = Path(tmp)
        corpus, dataset = faq_data(root, limit=faq_limit)
        items = gold_items(dataset)
        settings = bench_settings(root / "store")
        embedder, load_s = load_embedder(settings)
        print(f"FAQ set: {len(items)} questions over {corpus}; embedder loaded in {load_s:.1f} s")

        print("ours: ingest_paths ...", flush=True)
        report = ingest_paths([corpus], settings, embedder=embedder)
        retriever = Retriever(settings, Store(settings), embedder)
        print("baseline: split, embed, Chroma ...", flush=True)
        index = build_naive_index(corpus, embedder, root / "naive-chroma")
        scores = _search_all(retriever, index.retriever(embedder, k=10), items)

    ours_index = {
        "chunks": report.chunks_written,
        "seconds": round(report.seconds, 2),
        "embed_seconds": round(report.stage_seconds.get("embed", 0.0), 2),
    }
    naive_index = {
        "chunks": index.chunks,
        "seconds": round(index.seconds, 2),
        "embed_seconds": round(index.embed_seconds, 2),
        "chunk_size": CHUNK_SIZE,
        "chunk_overlap": CHUNK_OVERLAP,
    }
    return {
        "dataset": str(dataset),
        "questions": len(items),
        "embedder": {"precision": embedder.precision, "load_s": round(load_s, 2)},
        "ours_hybrid": scores["hybrid"],
        "ours_dense": scores["dense"],
        "naive": scores["naive"],
        "index": {"ours": ours_index, "naive": naive_index},
        "figures": _figures(scores, ours_index, naive_index),
    }


def details(result: dict[str, Any]) -> dict[str, Any]:
    """The retriever table and notes (printed here, and put in summary.md by run.py)."""
    headers = ["retriever", "recall@5", "MRR", "hit@1", "p50 ms", "p95 ms", "chunks", "index s"]
    rows = []
    for key, label, index in (
        ("ours_hybrid", "ours (hybrid)", "ours"),
        ("ours_dense", "ours (dense only)", "ours"),
        ("naive", "naive LangChain (dense)", "naive"),
    ):
        r, ix = result[key], result["index"][index]
        rows.append(
            [
                label,
                fmt(r["recall@5"]),
                fmt(r["mrr"]),
                fmt(r["hit@1"]),
                r["latency"]["p50_ms"],
                r["latency"]["p95_ms"],
                ix["chunks"],
                ix["seconds"],
            ]
        )
    notes = [
        f"FAQ dev set: {result['questions']} questions, doc level, top 10 ranked; naive = "
        f"RecursiveCharacterTextSplitter({CHUNK_SIZE}, {CHUNK_OVERLAP}) + plain Chroma, same "
        f"embedder ({result['embedder']['precision']})."
    ]
    return {"headers": headers, "rows": rows, "notes": notes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument(
        "--faq-limit",
        type=int,
        default=None,
        help="only the first N FAQ documents and questions (default all)",
    )
    args = parser.parse_args(argv)
    limit = args.faq_limit or (8 if args.quick else None)
    result = run(limit)
    result["quick"] = args.quick
    print_and_write(
        NAME, result, details(result), "retrieval: ours vs the naive LangChain RAG", args
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
