"""Find a new document whose text equals one already indexed (a "Kopie van …" upload).

Two documents have the same text when they cut into the same chunk texts: the chunker is
deterministic, and each stored chunk keeps the sha256 of its text, so one indexed lookup
finds the candidates without reading any document again. Titles, file names and bytes
may differ (a re-saved copy); only the text counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.store import Store
from assistant.types import Chunk
from ingest.errors import Message, Reason


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
    def reason(self) -> Message:
        """What happened and what to do."""
        name = Path(self.duplicate_source).name
        return Message(Reason.DUPLICATE, {"doc_id": self.duplicate_of, "name": name})

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "doc_id": self.doc_id, "duplicate_of": self.duplicate_of,
                "duplicate_source": self.duplicate_source}  # fmt: skip


class DuplicateFinder:
    """Remembers the documents of one ingest run and looks up the store for the rest.

    Args:
        store: the open store (its current chunks are compared).
        ids_now: source file → the document id it gets in this run (a file may hand its
            id to another one in manifest.toml).
    """

    def __init__(self, store: Store, ids_now: Mapping[str, str] | None = None) -> None:
        self.store = store
        self.ids_now = ids_now or {}
        self._seen: dict[tuple[str, ...], tuple[str, str]] = {}  # chunk hashes → (id, file)

    def check(self, doc_id: str, source: str, chunks: Sequence[Chunk]) -> Duplicate | None:
        """The indexed (or earlier in this run) document with the same text, if any.

        An indexed document counts only when it is another id and still holds that text:
        its file exists, is unchanged since it was indexed, and keeps that id in this run.
        A renamed file is the same document moving, and a document whose file changed or
        passed its id to another file is about to hold other text: neither is a copy.

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
            if record is not None and self._still_holds(record.doc_id, record.source,
                                                        record.content_hash):  # fmt: skip
                return Duplicate(source, doc_id, other, record.source)
        self._seen.setdefault(key, (doc_id, source))
        return None

    def _still_holds(self, doc_id: str, source: str, content_hash: str) -> bool:
        if self.ids_now.get(source, doc_id) != doc_id:
            return False
        try:
            data = Path(source).read_bytes()
        except (OSError, ValueError):  # gone (moved or removed) or unreadable
            return False
        return hashlib.sha256(data).hexdigest() == content_hash
