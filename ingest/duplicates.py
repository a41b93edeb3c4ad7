"""Find a new document whose text equals one already indexed (a "Kopie van …" upload).

Two documents have the same text when they cut into the same chunk texts: the chunker is
deterministic, and each stored chunk keeps the sha256 of its text, so one indexed lookup
finds the candidates without reading any document again. Titles, file names and bytes
may differ (a re-saved copy); only the text counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.store import Store
from assistant.types import Chunk


@dataclass(frozen=True)
class Duplicate:
    """A file that was not indexed because its text is already in the index.

    Attributes:
        path: the file that was left out.
        doc_id: the id it would have had.
        duplicate_of: the indexed document with the same text.
        duplicate_source: that document's file.
    """

    path: str
    doc_id: str
    duplicate_of: str
    duplicate_source: str

    @property
    def reason(self) -> str:
        """Dutch: what happened and what to do."""
        return (
            f"heeft dezelfde tekst als document '{self.duplicate_of}' "
            f"({Path(self.duplicate_source).name}) en is niet nog eens opgenomen; verwijder "
            "de kopie, of vervang het bestaande document als dit de nieuwe versie is"
        )

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "doc_id": self.doc_id, "duplicate_of": self.duplicate_of,
                "duplicate_source": self.duplicate_source}  # fmt: skip


class DuplicateFinder:
    """Remembers the documents of one ingest run and looks up the store for the rest.

    Args:
        store: the open store (its current chunks are compared).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: dict[tuple[str, ...], tuple[str, str]] = {}  # chunk hashes → (id, file)

    def check(self, doc_id: str, source: str, chunks: Sequence[Chunk]) -> Duplicate | None:
        """The indexed (or earlier in this run) document with the same text, if any.

        A document counts only when it is another id and its file still exists: a file
        that was renamed is the same document moving, not a copy.

        Args:
            doc_id: the new document's id.
            source: its file.
            chunks: its chunks, in order.

        Returns:
            The duplicate, or None; a None also records this document for the run.
        """
        key = tuple(c.content_hash for c in chunks)
        if not key:
            return None
        earlier = self._seen.get(key)
        if earlier is not None and earlier[0] != doc_id:
            return Duplicate(source, doc_id, earlier[0], earlier[1])
        for other, hashes in self.store.chunk_hashes_by_document(key[0]).items():
            if other == doc_id or tuple(hashes) != key:
                continue
            record = self.store.document(other)
            if record is not None and _exists(record.source):
                return Duplicate(source, doc_id, other, record.source)
        self._seen.setdefault(key, (doc_id, source))
        return None


def _exists(path: str) -> bool:
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False
