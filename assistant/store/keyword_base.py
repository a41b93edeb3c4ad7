"""What the SQLite and PostgreSQL keyword indexes share: the Dutch analyser that makes a
chunk's terms, the rebuild when its settings change, and the idf of terms."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from assistant.analysis import ANALYSER_VERSION, analyse
from assistant.types import Chunk


class AnalysedIndex:
    """The analyser side of a keyword index (``base.KeywordIndex``); a back end adds its
    tables (``_create``), ``reindex``, ``count`` and ``document_frequency``.

    Args:
        db: the catalog's database (the index refers to its ``chunks`` rows).
        stemmer: the Snowball stemmer name (settings.keyword_stemmer).
        compounds: whether Dutch compounds are split (settings.keyword_compounds).
    """

    def __init__(self, db: Any, stemmer: str, compounds: bool) -> None:
        self.db = db
        self.stemmer = stemmer
        self.compounds = compounds
        self._create()
        self._ensure_analyser()

    def _create(self) -> None:
        raise NotImplementedError

    def reindex(self) -> int:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def document_frequency(self, terms: Sequence[str]) -> dict[str, int]:
        raise NotImplementedError

    def terms(self, text: str) -> list[str]:
        """The analysed terms of a text, as this index stores and searches them."""
        return analyse(text, self.stemmer, self.compounds)

    def chunk_terms(self, chunk: Chunk) -> list[str]:
        """The terms a chunk is indexed under: its title, section and text."""
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

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25-style inverse document frequency of analysed terms over all chunks."""
        df = self.document_frequency(terms)
        if not df:
            return {}
        total = self.count() or 1
        return {t: math.log(1.0 + (total - n + 0.5) / (n + 0.5)) for t, n in df.items()}
