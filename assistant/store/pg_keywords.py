"""The keyword index in PostgreSQL: the same Dutch-analysed terms as the SQLite index,
ranked by the same BM25 formula as SQLite's FTS5.

PostgreSQL's own full-text ranking (``ts_rank``) is not BM25 and its ``dutch`` stemmer
differs from ours, so the two back ends would rank differently. Instead each chunk's terms
(``assistant.analysis.analyse`` of title, section and text) are stored as postings, one
row per (term, chunk) with the term's count and the chunk's length, and a search computes
FTS5's ``bm25()`` in SQL: k1 = 1.2, b = 0.75, idf = ln((N − n + 0.5) / (n + 0.5)) with a
floor of 1e-6, over all stored chunks (current or not, as FTS5 counts its rows). A
small ``kw_stats`` row keeps N and the total length, updated in the catalog's transaction.
Written here rather than taken from a library because no PostgreSQL BM25 extension ships
with Debian's packages.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from assistant.analysis import ANALYSER_VERSION, analyse
from assistant.store.catalog import CURRENT
from assistant.store.filters import Filters
from assistant.store.postgres import PostgresDatabase
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
# The best `limit` rows by FTS5's BM25 (over every stored chunk), then those of current
# versions with their data (NULL for the others): the SQLite index's plan, in one statement.
_SEARCH = f"""
WITH q AS (SELECT DISTINCT unnest(%(terms)s::text[]) AS term),
stats AS (SELECT rows::float8 AS n_rows, GREATEST(length, 1)::float8 / GREATEST(rows, 1) AS avgdl
          FROM kw_stats),
df AS (SELECT p.term, COUNT(*)::float8 AS hits FROM kw_postings p JOIN q USING (term)
       GROUP BY p.term),
idf AS (SELECT df.term, GREATEST(ln((stats.n_rows - df.hits + 0.5) / (df.hits + 0.5)), 1e-6)
        AS idf FROM df, stats),
ranked AS (
    SELECT p.chunk_rowid, SUM(idf.idf * p.tf * {K1 + 1}
                              / (p.tf + {K1} * (1 - {B} + {B} * p.length / stats.avgdl))) AS score
    FROM kw_postings p JOIN idf USING (term) CROSS JOIN stats
    GROUP BY p.chunk_rowid ORDER BY score DESC, p.chunk_rowid LIMIT %(limit)s
)
SELECT r.score, c.data FROM ranked r LEFT JOIN ({CURRENT}) ON c.rowid = r.chunk_rowid
ORDER BY r.score DESC, r.chunk_rowid
"""


class PostgresKeywordIndex:
    """BM25 search over the catalog's chunks in PostgreSQL (implements ``base.KeywordIndex``).

    Args:
        db: the catalog's database (the postings refer to its ``chunks`` rows).
        stemmer: the Snowball stemmer name (settings.keyword_stemmer).
        compounds: whether Dutch compounds are split (settings.keyword_compounds).
    """

    def __init__(self, db: PostgresDatabase, stemmer: str, compounds: bool) -> None:
        self.db = db
        self.stemmer = stemmer
        self.compounds = compounds
        db.ensure_schema(SCHEMA)
        self._ensure_analyser()

    def terms(self, text: str) -> list[str]:
        """The analysed terms of a text, as this index stores and searches them."""
        return analyse(text, self.stemmer, self.compounds)

    def _chunk_terms(self, chunk: Chunk) -> list[str]:
        return self.terms(f"{chunk.title} {chunk.section} {chunk.text}")

    def _ensure_analyser(self) -> None:
        """Rebuild the index when it was built with another analyser."""
        wanted = f"{self.stemmer}:{int(self.compounds)}:v{ANALYSER_VERSION}"
        built = self.db.get_meta("analyser")
        if built == wanted:
            return
        if built is not None:
            self.reindex()
        self.db.set_meta("analyser", wanted)

    # -- writes (each joins the catalog's transaction when inside one) -------------------
    def add(self, chunks: Sequence[Chunk]) -> None:
        """Index chunks the catalog has just stored."""
        if not chunks:
            return
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, rowid FROM chunks WHERE id = ANY(%s)", ([c.id for c in chunks],)
            ).fetchall()
            self._write({rowid: self._chunk_terms(c) for c, (_, rowid) in _paired(chunks, rows)})

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
            self._write({rowid: self._chunk_terms(c) for c, (_, rowid) in pairs})

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
                {rowid: self._chunk_terms(Chunk.model_validate_json(d)) for rowid, d in rows}
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
        # As the SQLite index: rank first, then read only the best rows of current
        # versions (and within the filters); fetch more when too few remain.
        limit = (k if filters is None else k * 5) * 2
        conn = self.db.connection()
        while True:
            rows = conn.execute(_SEARCH, {"terms": terms, "limit": limit}).fetchall()
            out = [(Chunk.model_validate_json(d), float(s)) for s, d in rows if d is not None]
            if filters is not None:
                out = [(c, s) for c, s in out if filters.accepts(c)]
            if len(out) >= k or len(rows) < limit:
                return out[:k]
            limit *= 4

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

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25-style inverse document frequency of analysed terms over all chunks."""
        df = self.document_frequency(terms)
        if not df:
            return {}
        total = self.count() or 1
        return {t: math.log(1.0 + (total - n + 0.5) / (n + 0.5)) for t, n in df.items()}


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
