"""Embed one share of a corpus's chunk texts into the retrieval benchmark's cache, so
several processes can fill it side by side before `retrieval_cv.py` builds its stores.

    python benchmarks/warm_embeddings.py CORPUS SIZE PRECISION PART PARTS
    python benchmarks/warm_embeddings.py queries PRECISION SET[,SET...]
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "eval"))

from benchmarks.embedding_cache import CachedEmbedder
from benchmarks.retrieval_cv import corpus_paths, store_settings
from ingest.manifest import discover
from ingest.pipeline import _embedded, version_hash, versioned_chunks
from ingest.sandbox import ParserPool


def warm_queries(precision: str, names: list[str]) -> None:
    """Embed every benchmark question of these sets (query prompt) into the cache."""
    from assistant.settings import Settings
    from benchmarks.retrieval_cv import SETS, load_items

    questions = [i.question for s in SETS if s.name in names for i in load_items(s)]
    embedder = CachedEmbedder(
        Settings(embedding_precision=precision), Path("/tmp/ivb-retrieval-cv/embeddings.sqlite")
    )
    for start in range(0, len(questions), 16):
        embedder.encode_queries(questions[start : start + 16])
    print(f"queries {precision}: {len(questions)}, {embedder.computed} embedded", flush=True)


def main() -> None:
    if sys.argv[1] == "queries":
        warm_queries(sys.argv[2], sys.argv[3].split(","))
        return
    corpus, size, precision, part, parts = sys.argv[1:6]
    work = Path("/tmp/ivb-retrieval-cv")
    settings = store_settings(work, corpus, int(size), precision)
    texts: list[str] = []
    entries = discover(corpus_paths(corpus))
    with ParserPool(settings) as pool:
        for _path, _meta, doc in pool.parse_all(entries):
            if isinstance(doc, Exception):
                continue
            chunks = versioned_chunks(doc, settings, version_hash(doc, settings))
            texts += [_embedded(c) for c in chunks]
    share = [int(hashlib.sha256(t.encode()).hexdigest(), 16) % int(parts) for t in texts]
    mine = list(dict.fromkeys(t for t, s in zip(texts, share, strict=True) if s == int(part)))
    embedder = CachedEmbedder(settings, work / "embeddings.sqlite")
    t = time.perf_counter()
    for start in range(0, len(mine), 16):
        embedder.encode_documents(mine[start : start + 16])
    print(f"{corpus} {size} {precision} part {part}/{parts}: {len(mine)} texts, "
          f"{embedder.computed} embedded, {time.perf_counter() - t:.0f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
