"""Copy an embedded store's catalog (``catalog.sqlite3``) into PostgreSQL.

For moving an installation onto ``IVB_DATABASE_URL`` without embedding anything again:
the documents, every stored chunk with its embedding key, and the keyword index (rebuilt
from the chunk texts by the PostgreSQL index) are copied; the vectors stay where they
are (the same Chroma folder or server). Benchmarks use it to give both back ends the
very same chunks.
"""

from __future__ import annotations

from assistant.store.facade import Store
from assistant.store.pg_catalog import no_nul
from assistant.store.sql_catalog import RECORD_COLUMNS
from assistant.store.sqlite import SqliteDatabase
from assistant.types import Chunk


def copy_sqlite_catalog(sqlite: SqliteDatabase, target: Store, batch: int = 2000) -> int:
    """Copy documents and chunks from a SQLite catalog into ``target``'s empty catalog.

    Args:
        sqlite: the embedded store's database (``settings.catalog_path``).
        target: a Store on PostgreSQL with an empty catalog.
        batch: chunks per insert round.

    Returns:
        The number of chunks copied.

    Raises:
        ValueError: the target already holds documents.
    """
    if target.catalog.count_chunks(current_only=False) or target.catalog.documents():
        raise ValueError("De PostgreSQL-catalogus is niet leeg; kopieer alleen naar een lege.")
    src = sqlite.connection()
    columns = ", ".join(RECORD_COLUMNS)
    documents = src.execute(f"SELECT {columns} FROM documents").fetchall()
    rows = src.execute("SELECT data, embed_key FROM chunks ORDER BY rowid").fetchall()
    with target.catalog.transaction() as conn:
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            chunks = [Chunk.model_validate_json(data) for data, _ in part]
            target.keywords.add(target.catalog.add_chunks(chunks, [key for _, key in part]))
        for row in documents:
            conn.execute(
                f"INSERT INTO documents ({columns}) VALUES ({', '.join(['%s'] * len(row))})",
                no_nul(*row),
            )
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = (meta.value::bigint + 1)::text"
        )
    return len(rows)
