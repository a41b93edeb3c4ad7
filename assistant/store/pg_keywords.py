"""The keyword index in PostgreSQL: the same Dutch-analysed terms as the SQLite index,
ranked by the same BM25 formula as SQLite's FTS5.

PostgreSQL's own full-text ranking (``ts_rank``) is not BM25 and its ``dutch`` stemmer
differs from ours, so the two back ends would rank differently. Instead each chunk's terms
(``assistant.analysis.analyse`` of title, section and text) are stored as postings, one
row per (term, chunk) with the term's count and the chunk's length, and a search computes
FTS5's ``bm25()`` in SQL: k1 = 1.2, b = 0.75, idf = ln((N − n + 0.5) / (n + 0.5)), or
1e-6 where that is not positive, over all stored chunks (current or not, as FTS5 counts
its rows). A small ``kw_stats`` row keeps N and the total length, updated in the
catalog's transaction. Terms at that floor ("artikel" in a statute collection) hold most
postings but move a score by at most 2.2e-6: a search ranks on the other terms first and
adds the floor terms' part to the best rows only, falling back to summing every posting
when that could change the list (``PostgresKeywordIndex._ranked``).
Written here rather than taken from a library because no PostgreSQL BM25 extension ships
with Debian's packages.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from assistant.store.filters import Filters
from assistant.store.keyword_base import AnalysedIndex
from assistant.store.postgres import PostgresDatabase
from assistant.store.sql_catalog import CURRENT
from assistant.types import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS kw_docs (
    chunk_rowid BIGINT PRIMARY KEY,
    length INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kw_postings (
    term TEXT NOT NULL,
    chunk_rowid BIGINT NOT NULL,
    tf INTEGER NOT NULL,
    length INTEGER NOT NULL,
    PRIMARY KEY (term, chunk_rowid) INCLUDE (tf, length)
);
CREATE INDEX IF NOT EXISTS kw_postings_chunk ON kw_postings(chunk_rowid);
CREATE TABLE IF NOT EXISTS kw_stats (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rows BIGINT NOT NULL,
    length BIGINT NOT NULL
);
INSERT INTO kw_stats VALUES (1, 0, 0) ON CONFLICT DO NOTHING
"""
K1, B = 1.2, 0.75  # FTS5's bm25() defaults
IDF_FLOOR = 1e-6  # FTS5's idf for a term in half of the rows or more (log ≤ 0)
_TERM_SCORE = f"w.idf * p.tf * {K1 + 1} / (p.tf + {K1} * (1 - {B} + {B} * p.length / %(avgdl)s))"
# The query's terms and their idf, as the statements below read them.
_WEIGHTS = "WITH w(term, idf) AS (SELECT * FROM unnest(%(terms)s::text[], %(idfs)s::float8[]))"
# The best `limit` rows by the BM25 part of `terms`: only those terms' postings are read.
_RANK = f"""{_WEIGHTS}
SELECT p.chunk_rowid, SUM({_TERM_SCORE}) AS score
FROM kw_postings p JOIN w USING (term)
GROUP BY p.chunk_rowid ORDER BY score DESC, p.chunk_rowid LIMIT %(limit)s
"""
# The part of `terms` in these rows' scores, one index probe per (row, term).
_PART_OF_ROWS = f"""{_WEIGHTS}
SELECT p.chunk_rowid, SUM({_TERM_SCORE})
FROM unnest(%(rowids)s::bigint[]) AS r(chunk_rowid) CROSS JOIN w
JOIN kw_postings p ON p.term = w.term AND p.chunk_rowid = r.chunk_rowid
GROUP BY p.chunk_rowid
"""
_DATA = f"SELECT c.rowid, c.data FROM {CURRENT} WHERE c.rowid = ANY(%s)"


class PostgresKeywordIndex(AnalysedIndex):
    """BM25 search over the catalog's chunks in PostgreSQL (implements
    ``base.KeywordIndex``); the arguments are those of :class:`AnalysedIndex` (``db`` a
    ``PostgresDatabase``)."""

    db: PostgresDatabase

    def _create(self) -> None:
        self.db.ensure_schema(SCHEMA)

    # -- writes (each joins the catalog's transaction when inside one) -------------------
    def add(self, chunks: Sequence[Chunk]) -> None:
        """Index chunks the catalog has just stored."""
        if not chunks:
            return
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, rowid FROM chunks WHERE id = ANY(%s)", ([c.id for c in chunks],)
            ).fetchall()
            self._write({rowid: self.chunk_terms(c) for c, (_, rowid) in _paired(chunks, rows)})

    def _write(self, terms_by_rowid: dict[int, list[str]]) -> None:
        """Postings and lengths of these chunk rows (none of which is indexed yet)."""
        conn = self.db.connection()
        total = 0
        with conn.cursor() as cur:
            with cur.copy("COPY kw_docs (chunk_rowid, length) FROM STDIN") as copy:
                for rowid, terms in terms_by_rowid.items():
                    copy.write_row((rowid, len(terms)))
                    total += len(terms)
            with cur.copy("COPY kw_postings (term, chunk_rowid, tf, length) FROM STDIN") as copy:
                for rowid, terms in terms_by_rowid.items():
                    for term, tf in Counter(terms).items():
                        copy.write_row((term, rowid, tf, len(terms)))
        conn.execute(
            "UPDATE kw_stats SET rows = rows + %s, length = length + %s",
            (len(terms_by_rowid), total),
        )

    def _delete(self, rowids: list[int]) -> None:
        conn = self.db.connection()
        gone = conn.execute(
            "DELETE FROM kw_docs WHERE chunk_rowid = ANY(%s) RETURNING length", (rowids,)
        ).fetchall()
        conn.execute("DELETE FROM kw_postings WHERE chunk_rowid = ANY(%s)", (rowids,))
        conn.execute(
            "UPDATE kw_stats SET rows = rows - %s, length = length - %s",
            (len(gone), sum(n for (n,) in gone)),
        )

    def update(self, chunks: Sequence[Chunk]) -> None:
        """Index new copies of stored chunks (the title is part of the terms)."""
        if not chunks:
            return
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, rowid FROM chunks WHERE id = ANY(%s)", ([c.id for c in chunks],)
            ).fetchall()
            pairs = _paired(chunks, rows)
            self._delete([rowid for _, (_, rowid) in pairs])
            self._write({rowid: self.chunk_terms(c) for c, (_, rowid) in pairs})

    def remove(self, ids: Sequence[str]) -> None:
        """Drop the rows of these chunks (before the catalog deletes the chunks)."""
        if not ids:
            return
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT rowid FROM chunks WHERE id = ANY(%s)", (list(ids),))
            self._delete([r for (r,) in rows.fetchall()])

    def reindex(self) -> int:
        """Rebuild the index from the stored chunk texts (after an analyser change); no
        embedding is involved. Returns the number of chunks indexed."""
        rows = self.db.connection().execute("SELECT rowid, data FROM chunks").fetchall()
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM kw_postings")
            conn.execute("DELETE FROM kw_docs")
            conn.execute("UPDATE kw_stats SET rows = 0, length = 0")
            self._write(
                {rowid: self.chunk_terms(Chunk.model_validate_json(d)) for rowid, d in rows}
            )
        return len(rows)

    # -- reads ---------------------------------------------------------------------------
    def count(self) -> int:
        """How many rows the index holds (one per stored chunk, current or not)."""
        return int(self.db.connection().execute("SELECT COUNT(*) FROM kw_docs").fetchone()[0])

    def count_matching(self, query: str) -> int:
        """How many rows (current or not) hold any analysed term of ``query``."""
        terms = sorted(set(self.terms(query)))
        if not terms:
            return 0
        row = self.db.connection().execute(
            "SELECT COUNT(DISTINCT chunk_rowid) FROM kw_postings WHERE term = ANY(%s)", (terms,)
        )
        return int(row.fetchone()[0])

    def search(
        self, query: str, k: int, filters: Filters | None = None
    ) -> list[tuple[Chunk, float]]:
        """BM25 over Dutch-stemmed terms of current chunks; higher score is better."""
        terms = sorted(set(self.terms(query)))
        if not terms:
            return []
        conn = self.db.connection()
        idf, avgdl = self._idf(terms)
        if not idf:
            return []
        # As the SQLite index: rank first, then read only the best rows of current
        # versions (and within the filters); fetch more when too few remain.
        limit = (k if filters is None else k * 5) * 2
        while True:
            ranked = self._ranked(idf, avgdl, limit)
            data = dict(conn.execute(_DATA, ([rowid for rowid, _ in ranked],)).fetchall())
            out = [(Chunk.model_validate_json(data[r]), s) for r, s in ranked if r in data]
            if filters is not None:
                out = [(c, s) for c, s in out if filters.accepts(c)]
            if len(out) >= k or len(ranked) < limit:
                return out[:k]
            limit *= 4

    def _idf(self, terms: list[str]) -> tuple[dict[str, float], float]:
        """FTS5's idf of each term that some row holds (the others are left out), over
        every stored row, and the mean row length in terms."""
        conn = self.db.connection()
        n_rows, avgdl = conn.execute(
            "SELECT rows::float8, GREATEST(length, 1)::float8 / GREATEST(rows, 1) FROM kw_stats"
        ).fetchone()
        df = {t: n for t, n in self.document_frequency(terms).items() if n}
        idf = {t: math.log((n_rows - n + 0.5) / (n + 0.5)) for t, n in df.items()}
        return {t: w if w > 0 else IDF_FLOOR for t, w in idf.items()}, float(avgdl)

    def _ranked(self, idf: dict[str, float], avgdl: float, limit: int) -> list[tuple[int, float]]:
        """The best ``limit`` (row, BM25 score) pairs, best first, ties by row: the same
        list as summing every posting of every term, read with less work.

        A term in half of the rows or more (idf at FTS5's floor, say "artikel" in a
        statute collection) adds at most ``IDF_FLOOR * (K1 + 1)`` to any row, yet holds
        most postings. So the rows are ranked on the other terms first (``2 * limit`` of
        them) and only those rows get the floor terms' part added. The list is exact when
        its last score is at least what any row left out could reach (the last score read
        plus the floor terms' largest part); otherwise every posting is summed.
        """
        conn = self.db.connection()
        informative = {t: w for t, w in idf.items() if w > IDF_FLOOR}
        floor = {t: w for t, w in idf.items() if w <= IDF_FLOOR}

        def params(part: dict[str, float], **extra: object) -> dict[str, object]:
            return {"terms": list(part), "idfs": list(part.values()), "avgdl": avgdl, **extra}

        if informative:
            wide = 2 * limit if floor else limit
            rows = conn.execute(_RANK, params(informative, limit=wide)).fetchall()
            if not floor:
                return [(r, float(s)) for r, s in rows]
            ids = [r for r, _ in rows]
            extra = dict(conn.execute(_PART_OF_ROWS, params(floor, rowids=ids)).fetchall())
            scored = sorted(
                ((r, float(s) + float(extra.get(r, 0.0))) for r, s in rows),
                key=lambda pair: (-pair[1], pair[0]),
            )[:limit]
            reach = sum(floor.values()) * (K1 + 1)  # rows holding floor terms only
            if len(rows) == wide:  # rows left out may hold informative terms too
                reach += float(rows[-1][1])
            if len(scored) == limit and scored[-1][1] >= reach:
                return scored
        rows = conn.execute(_RANK, params(idf, limit=limit)).fetchall()  # every term
        return [(r, float(s)) for r, s in rows]

    def with_term(self, term: str, limit: int, filters: Filters | None = None) -> list[Chunk]:
        """Current chunks whose analysed terms hold this exact term, in storage order
        (e.g. every chunk that names "artikel13b"), at most ``limit``."""
        rows = (
            self.db.connection()
            .execute(
                f"SELECT c.data FROM {CURRENT} WHERE c.rowid IN "
                "(SELECT chunk_rowid FROM kw_postings WHERE term = %s) ORDER BY c.rowid LIMIT %s",
                (term, limit),
            )
            .fetchall()
        )
        chunks = [Chunk.model_validate_json(data) for (data,) in rows]
        return [c for c in chunks if filters is None or filters.accepts(c)]

    def document_frequency(self, terms: Sequence[str]) -> dict[str, int]:
        """How many indexed chunks hold each analysed term (0 for a term never seen)."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return {}
        df = dict(
            self.db.connection()
            .execute(
                "SELECT term, COUNT(*) FROM kw_postings WHERE term = ANY(%s) GROUP BY term",
                (terms,),
            )
            .fetchall()
        )
        return {t: int(df.get(t, 0)) for t in terms}


def _paired(chunks: Sequence[Chunk], rows: list[tuple[str, int]]) -> list[tuple[Chunk, tuple]]:
    """Each chunk with its (id, rowid) catalog row; chunks without a row are left out."""
    by_id = {chunk_id: (chunk_id, rowid) for chunk_id, rowid in rows}
    seen: set[str] = set()
    out = []
    for c in chunks:
        if c.id in by_id and c.id not in seen:
            seen.add(c.id)
            out.append((c, by_id[c.id]))
    return out
