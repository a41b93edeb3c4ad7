"""The keyword index in SQLite: FTS5 over Dutch-analysed terms, ranked by SQLite's BM25.

Each stored chunk has one row of terms (title, section and text through
``assistant.analysis.analyse``), keyed by the chunk's row in the catalog, which lives in
the same database: a search ranks inside the full-text index first and then reads only
the best rows of current versions.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.store.filters import Filters
from assistant.store.keyword_base import AnalysedIndex
from assistant.store.sql_catalog import CURRENT
from assistant.store.sqlite import SqliteDatabase, batches, placeholders
from assistant.types import Chunk

SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(terms, tokenize='unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, row);
"""
_ROWID_OF = "(SELECT rowid FROM chunks WHERE id=?)"


class SqliteKeywordIndex(AnalysedIndex):
    """BM25 search over the catalog's chunks (implements ``base.KeywordIndex``); the
    arguments are those of :class:`AnalysedIndex` (``db`` a ``SqliteDatabase``)."""

    db: SqliteDatabase

    def _create(self) -> None:
        self.db.connection().executescript(SCHEMA)

    def _chunk_terms(self, chunk: Chunk) -> str:
        return " ".join(self.chunk_terms(chunk))

    # -- writes (each joins the catalog's transaction when inside one) -------------------
    def add(self, chunks: Sequence[Chunk]) -> None:
        """Index chunks the catalog has just stored."""
        with self.db.transaction() as db:
            for chunk in chunks:
                db.execute(
                    f"INSERT INTO chunks_fts(rowid, terms) VALUES ({_ROWID_OF}, ?)",
                    (chunk.id, self._chunk_terms(chunk)),
                )

    def update(self, chunks: Sequence[Chunk]) -> None:
        """Index new copies of stored chunks (the title is part of the terms)."""
        with self.db.transaction() as db:
            for chunk in chunks:
                db.execute(
                    f"UPDATE chunks_fts SET terms=? WHERE rowid={_ROWID_OF}",
                    (self._chunk_terms(chunk), chunk.id),
                )

    def remove(self, ids: Sequence[str]) -> None:
        """Drop the rows of these chunks (before the catalog deletes the chunks)."""
        with self.db.transaction() as db:
            for part in batches(list(ids)):
                db.execute(
                    "DELETE FROM chunks_fts WHERE rowid IN "
                    f"(SELECT rowid FROM chunks WHERE id IN ({placeholders(part)}))",
                    part,
                )

    def reindex(self) -> int:
        """Rebuild the index from the stored chunk texts (after an analyser change); no
        embedding is involved. Returns the number of chunks indexed."""
        rows = self.db.connection().execute("SELECT rowid, data FROM chunks").fetchall()
        with self.db.transaction() as db:
            db.execute("DELETE FROM chunks_fts")
            for rowid, data in rows:
                chunk = Chunk.model_validate_json(data)
                db.execute(
                    "INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)",
                    (rowid, self._chunk_terms(chunk)),
                )
        return len(rows)

    # -- reads ---------------------------------------------------------------------------
    def count(self) -> int:
        """How many rows the index holds (one per stored chunk, current or not)."""
        return int(self.db.connection().execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0])

    def count_matching(self, query: str) -> int:
        """How many rows (current or not) hold any analysed term of ``query``."""
        match = self._match(query)
        if not match:
            return 0
        sql = "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?"
        return int(self.db.connection().execute(sql, (match,)).fetchone()[0])

    def _match(self, query: str) -> str:
        terms = sorted(set(self.terms(query)))
        return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)

    def search(
        self, query: str, k: int, filters: Filters | None = None
    ) -> list[tuple[Chunk, float]]:
        """BM25 over Dutch-stemmed terms of current chunks; higher score is better."""
        match = self._match(query)
        if not match:
            return []
        # Rank inside the full-text index first and read only the best rows: joining every
        # match before sorting cost most of a query at 100k chunks. Rows of a version that
        # is not current (or outside the filters) are dropped after, so fetch extra.
        limit = (k if filters is None else k * 5) * 2
        db = self.db.connection()
        while True:
            ranked = db.execute(
                "SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
                "ORDER BY rank LIMIT ?",
                (match, limit),
            ).fetchall()
            score = dict(ranked)
            rows = db.execute(
                f"SELECT c.rowid, c.data FROM {CURRENT} WHERE c.rowid IN ({placeholders(ranked)})",
                list(score),
            ).fetchall()
            out = sorted(
                ((Chunk.model_validate_json(data), float(score[rowid])) for rowid, data in rows),
                key=lambda pair: pair[1],
                reverse=True,
            )
            if filters is not None:
                out = [(c, s) for c, s in out if filters.accepts(c)]
            if len(out) >= k or len(ranked) < limit:
                return out[:k]
            limit *= 4

    def with_term(self, term: str, limit: int, filters: Filters | None = None) -> list[Chunk]:
        """Current chunks whose analysed terms hold this exact term, in storage order
        (e.g. every chunk that names "artikel13b"), at most ``limit``."""
        db = self.db.connection()
        rows = db.execute(
            f"SELECT c.data FROM {CURRENT} WHERE c.rowid IN "
            "(SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?) LIMIT ?",
            ('"' + term.replace('"', "") + '"', limit),
        ).fetchall()
        chunks = [Chunk.model_validate_json(data) for (data,) in rows]
        return [c for c in chunks if filters is None or filters.accepts(c)]

    def document_frequency(self, terms: Sequence[str]) -> dict[str, int]:
        """How many indexed chunks hold each analysed term (0 for a term never seen)."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return {}
        df = dict(
            self.db.connection().execute(
                f"SELECT term, doc FROM chunks_vocab WHERE term IN ({placeholders(terms)})", terms
            )
        )
        return {t: int(df.get(t, 0)) for t in terms}
