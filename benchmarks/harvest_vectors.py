"""Fill the retrieval benchmark's embedding cache from stores already built on this
machine (read from a copy, never written), so vectors embedded once by any run are not
embedded again. A vector is taken only where the store's own key proves it was made by
the same model, precision and truncation from exactly the text the chunk embeds now.

    python benchmarks/harvest_vectors.py CACHE.sqlite STORE_DIR...
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.embeddings import embedding_identity, embedding_key, embedding_text
from assistant.settings import Settings
from assistant.store import Store
from assistant.types import Chunk

DIMENSION = 768  # EmbeddingGemma-300m


def harvest(cache: Path, store_dir: Path) -> int:
    db = sqlite3.connect(cache)
    db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, v BLOB)")
    identities = {p: embedding_identity(Settings(embedding_precision=p)) for p in ("int8", "fp32")}
    added = 0
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store"
        shutil.copytree(store_dir, copy, ignore=shutil.ignore_patterns("write.lock"))
        catalog = next(copy.glob("catalog.sqlite*"))
        rows = sqlite3.connect(catalog).execute("SELECT id, data, embed_key FROM chunks").fetchall()
        store = Store(Settings(store_dir=copy))
        for start in range(0, len(rows), 500):
            part = rows[start : start + 500]
            vectors = store.vectors.embeddings([r[0] for r in part])
            for cid, data, key in part:
                chunk = Chunk.model_validate_json(data)
                text = embedding_text(chunk.title, chunk.section, chunk.text)
                for identity in identities.values():
                    vec = np.asarray(vectors.get(cid, []), dtype=np.float32)
                    # the real model's width only: a test store may hold a stand-in's vectors
                    if key == embedding_key(identity, text) and vec.shape == (DIMENSION,):
                        mine = hashlib.sha256(f"{identity}\ndocument\n{text}".encode()).hexdigest()
                        cursor = db.execute(
                            "INSERT OR IGNORE INTO vectors VALUES (?, ?)", (mine, vec.tobytes())
                        )
                        added += cursor.rowcount
        db.commit()
        store.close()
    return added


if __name__ == "__main__":
    cache = Path(sys.argv[1])
    for folder in sys.argv[2:]:
        try:
            print(folder, harvest(cache, Path(folder)), flush=True)
        except Exception as exc:  # a half-written store elsewhere is simply skipped
            print(folder, "skipped:", exc, flush=True)
