"""Incremental ingestion: files → Documents → Chunks → vectors → the store.

Per document: parse (in a separate, resource-limited process), compare its version
with the catalog, and only then chunk, embed and write. A document is staged beside
its old version and made current in one catalog transaction, so readers never see a
half-replaced document, and an interrupted run is finished by the next one.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant import metrics
from assistant.embeddings import embedding_identity, embedding_key, embedding_text
from assistant.settings import Settings
from assistant.store import Store
from assistant.types import Chunk, Document
from ingest.chunking import chunk_document
from ingest.duplicates import DuplicateFinder
from ingest.errors import IngestError, Message, Reason
from ingest.manifest import discover
from ingest.ocr import unread_warning
from ingest.sandbox import ParserPool
from ingest.skipping import skipped_files

# Bump when chunking changes in a way that must re-chunk every document.
CHUNKER_VERSION = "3"  # 2: a sentence over a page break stays whole; 3: no fragment chunks


@dataclass
class IngestReport:
    """What one ingest run did; `as_dict()` is the `ivb ingest --json` output."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)  # {path, error, code}
    # Files not read, each {path, reason, code}: hidden or hostile names, special files,
    # and duplicates (a file with the same text as an indexed document).
    skipped: list[dict[str, str]] = field(default_factory=list)
    # Each {path, doc_id, duplicate_of, duplicate_source}; also listed in skipped.
    duplicates: list[dict[str, str]] = field(default_factory=list)
    ocr_pages: dict[str, list[str]] = field(default_factory=dict)  # doc id → labels read by OCR
    warnings: list[dict[str, str]] = field(default_factory=list)  # {path, doc_id, warning, code}
    chunks_embedded: int = 0
    chunks_reused: int = 0
    chunks_written: int = 0
    pages: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # doc id → its file (not in JSON)
    # The language of the texts in failed, skipped and warnings ("nl" or "en"; not in JSON);
    # "code" in each entry is its ingest.errors.Reason.
    lang: str = "nl"

    @property
    def ok(self) -> bool:
        return not self.failed

    def fail(self, error: IngestError, path: str | Path | None = None) -> None:
        """Add a file that failed, with its reason in the report's language.

        Args:
            error: why it failed.
            path: the file as found (default: the error's path).
        """
        self.failed.append(
            {"path": str(path or error.path), "error": error.text(self.lang),
             "code": error.message.reason.value}
        )  # fmt: skip

    def skip(self, path: str, message: Message) -> None:
        """Add a file that was left out, with the reason in the report's language."""
        self.skipped.append(
            {"path": path, "reason": message.text(self.lang), "code": message.reason.value}
        )

    def warn(self, path: str, doc_id: str, message: Message) -> None:
        """Add a warning about a document that was added (a page left unread)."""
        self.warnings.append(
            {"path": path, "doc_id": doc_id, "warning": message.text(self.lang),
             "code": message.reason.value}
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": self.failed,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
            "ocr_pages": self.ocr_pages,
            "warnings": self.warnings,
            "chunks_embedded": self.chunks_embedded,
            "chunks_reused": self.chunks_reused,
            "chunks_written": self.chunks_written,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
        }


@dataclass
class Progress:
    """A progress event: files done/total and chunks embedded so far."""

    files_done: int
    files_total: int
    chunks_embedded: int
    current: str


def version_hash(doc: Document, settings: Settings) -> str:
    """The version of a document's index entries: its bytes and how they are chunked
    and embedded. Metadata is not part of it: a metadata change costs no embedding."""
    parts: list[Any] = [doc.content_hash, CHUNKER_VERSION, settings.chunk_size,
                        settings.chunk_overlap, settings.embedding_model,
                        settings.embedding_precision]  # fmt: skip
    scanned = [[p.index, p.ocr] for p in doc.pages if p.ocr or p.unread_reason is not None]
    if scanned:  # a scan read by OCR now, unread before (or the other way), is a new version
        parts.append(scanned)
    key = json.dumps(parts)
    return hashlib.sha256(key.encode()).hexdigest()


def versioned_chunks(doc: Document, settings: Settings, version: str) -> list[Chunk]:
    """Chunks of a document, with ids and doc_hash bound to this version."""
    chunks = chunk_document(doc, settings.chunk_size, settings.chunk_overlap)
    return [
        c.model_copy(update={"id": f"{doc.doc_id}:{version[:12]}:{c.ordinal:05d}",
                             "doc_hash": version})
        for c in chunks
    ]  # fmt: skip


def _tick(times: dict[str, float], stage: str, since: float) -> float:
    now = time.perf_counter()
    times[stage] = times.get(stage, 0.0) + now - since
    return now


def ingest_paths(
    paths: Sequence[Path | str],
    settings: Settings,
    store: Store | None = None,
    embedder: Any | None = None,
    prune: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    replaces: Collection[str] = (),
    lang: str = "nl",
) -> IngestReport:
    """Ingest files and folders into the store; unchanged documents cost nothing.

    A document is known by its id and its source file (stored as an absolute path). A
    file whose id belongs to another file that still exists fails, unless the id is in
    ``replaces``; when the other file is gone, the document has moved and is updated.

    Args:
        paths: files and/or folders (searched recursively).
        settings: store, chunking and model settings.
        store: an open store (opened from settings when None).
        embedder: an embedder (the process-wide one when None; loaded only if needed).
        prune: remove documents whose source file under these paths is gone.
        on_progress: called after every file.
        replaces: document ids that may move to a new file while the old one still
            exists (a staff upload that replaces a document).
        lang: the language of the report's reasons and warnings ("nl" or "en").
    """
    started = time.perf_counter()
    report = IngestReport(lang=lang)
    times = report.stage_seconds
    store = store or Store(settings)
    roots = [Path(p) for p in paths]
    with store.writer():
        store.collect()  # finish whatever an interrupted run left behind
        entries = _discover(roots, report)
        seen: dict[str, str] = {}
        # The id each file gets in this run: a file that hands its id to another one
        # (manifest.toml changed) does not hold it any more.
        ids_now = {absolute_source(path): meta.doc_id for path, meta in entries}
        uploads = absolute_source(uploads_folder(settings))
        total = len(entries)
        batcher = _Batcher(settings, store, embedder, report, times, ids_now)
        with ParserPool(settings) as pool:
            for done, (path, meta, result) in enumerate(pool.parse_all(entries), start=1):
                t = time.perf_counter()
                if isinstance(result, IngestError):
                    report.fail(result, path)
                elif meta.doc_id in seen:
                    other = seen[meta.doc_id]
                    report.fail(IngestError(str(path), Reason.ID_IN_USE, doc_id=meta.doc_id,
                                            other=other))  # fmt: skip
                else:
                    doc = result.model_copy(update={"source": absolute_source(result.source)})
                    holder = None if doc.doc_id in replaces else _other_holder(store, doc)
                    if holder is not None and ids_now.get(holder, doc.doc_id) != doc.doc_id:
                        holder = None
                    _place(doc, path, holder, uploads, seen, report, batcher)
                _tick(times, "index", t)
                if on_progress:
                    on_progress(Progress(done, total, report.chunks_embedded, str(path)))
        t = time.perf_counter()
        batcher.flush()
        _tick(times, "index", t)
        times["parse"] = pool.parse_seconds
        if prune:
            report.removed = _prune(store, roots, seen)
        _drop_old_ids(store, ids_now, seen, report)
        store.collect()
    report.seconds = time.perf_counter() - started
    metrics.observe_ingest(report)
    return report


def _discover(roots: list[Path], report: IngestReport) -> list[tuple[Path, Any]]:
    """The ``(path, meta)`` of every file under the roots; a root that fails and the
    files that are skipped go into the report."""
    entries = []
    for root in roots:
        try:
            entries.extend(discover([root]))
        except IngestError as exc:
            report.fail(exc)
    report.skipped.extend(skipped_files(roots, report.lang))
    return entries


def _place(
    doc: Document,
    path: Path,
    holder: str | None,
    uploads: str,
    seen: dict[str, str],
    report: IngestReport,
    batcher: _Batcher,
) -> None:
    """Index a parsed document unless another existing file (``holder``) holds its id.

    A holder in the uploads folder means staff replaced the document: the upload stays.
    """
    if holder is not None and _under(holder, uploads):
        seen[doc.doc_id] = str(path)
        report.unchanged.append(doc.doc_id)
    elif holder is not None:
        report.fail(IngestError(str(path), Reason.ID_HELD, doc_id=doc.doc_id, holder=holder))
    else:
        seen[doc.doc_id] = str(path)
        batcher.add(doc)


def _drop_old_ids(
    store: Store, ids_now: dict[str, str], seen: dict[str, str], report: IngestReport
) -> None:
    """Remove the documents of files that now carry another id (manifest.toml changed).

    Such a file no longer holds its old id: that old document would otherwise stay beside
    the new one.
    """
    for rec in store.documents():
        new_id = ids_now.get(rec.source)
        moved = rec.doc_id not in seen and new_id not in (None, rec.doc_id)
        if moved and new_id in seen and store.remove(rec.doc_id):
            report.removed.append(rec.doc_id)


@dataclass
class _Pending:
    """A changed document whose chunks wait for the next embedding batch."""

    doc: Document
    version: str
    is_new: bool
    chunks: list[Chunk]
    keys: list[str]  # per chunk, its embedding key (model identity + embedded text)
    vectors: dict[str, list[float]]  # embedding key → vector, reused ones filled in


class _Batcher:
    """Embeds the chunks of several documents in one call, then writes each document.

    Small documents (a statute of three chunks) would otherwise each pay a model call
    with a short batch. Every document is still staged and committed on its own, so a
    crash loses at most the pending batch (a few hundred chunks; longer batches also
    let the model sort texts by length and pad less), never a half-written document.
    """

    def __init__(self, settings: Settings, store: Store, embedder: Any | None,
                 report: IngestReport, times: dict[str, float],
                 ids_now: dict[str, str] | None = None) -> None:  # fmt: skip
        self.settings, self.store, self.embedder = settings, store, embedder
        self.report, self.times = report, times
        self.pending: list[_Pending] = []
        self.flush_at = max(1, settings.ingest_batch_chunks)
        self.identity = embedding_identity(settings)
        self.duplicates = DuplicateFinder(store, ids_now)

    def add(self, doc: Document) -> None:
        """Compare with the catalog; queue the document if its content changed."""
        version = version_hash(doc, self.settings)
        current = self.store.document(doc.doc_id)
        self.report.pages += len(doc.pages)
        self.report.sources[doc.doc_id] = doc.source
        _note_scanned_pages(doc, self.report)
        if current is not None and current.doc_hash == version:
            if _meta_changed(current, doc):
                self.store.update_metadata(doc)
                self.report.updated.append(doc.doc_id)
            else:
                if current.source != doc.source:  # the same file, stored as typed before
                    self.store.update_metadata(doc)
                self.report.unchanged.append(doc.doc_id)
            return
        t = time.perf_counter()
        chunks = versioned_chunks(doc, self.settings, version)
        t = _tick(self.times, "chunk", t)
        if not chunks:
            self.report.fail(IngestError(doc.source, Reason.NO_USABLE_TEXT))
            return
        duplicate = (
            self.duplicates.check(doc.doc_id, doc.source, chunks) if current is None else None
        )
        if duplicate is not None:
            self.report.duplicates.append(duplicate.as_dict())
            self.report.skip(doc.source, duplicate.reason)
            return
        keys = [embedding_key(self.identity, _embedded(c)) for c in chunks]
        reused = self.store.embeddings_for_keys(keys)
        _tick(self.times, "reuse", t)
        self.pending.append(_Pending(doc, version, current is None, chunks, keys, reused))
        if self._waiting() >= self.flush_at:
            self.flush()

    def _waiting(self) -> int:
        return sum(len(p.chunks) - len(p.vectors) for p in self.pending)

    def flush(self) -> None:
        """Embed every pending chunk in one call, then stage and commit each document."""
        if not self.pending:
            return
        t = time.perf_counter()
        todo: dict[str, Chunk] = {}  # one embedding per distinct embedding key
        for p in self.pending:
            for c, key in zip(p.chunks, p.keys, strict=True):
                if key not in p.vectors:
                    todo.setdefault(key, c)
        encoded: dict[str, list[float]] = {}
        if todo:
            if self.embedder is None:
                from assistant.embeddings import get_embedder

                self.embedder = get_embedder(self.settings)
            vectors = self.embedder.encode_documents([_embedded(c) for c in todo.values()])
            encoded = dict(zip(todo, vectors, strict=True))
        t = _tick(self.times, "embed", t)
        # What the model encoded; every other chunk written reuses a vector (stored, or
        # encoded once in this batch for an identical passage).
        self.report.chunks_embedded += len(encoded)
        for p in self.pending:
            vectors = {**encoded, **p.vectors}
            self.store.stage(p.chunks, [vectors[k] for k in p.keys], p.keys)
            self.store.commit(p.doc, p.version, len(p.chunks))
            self.report.chunks_written += len(p.chunks)
            (self.report.added if p.is_new else self.report.updated).append(p.doc.doc_id)
        self.report.chunks_reused = self.report.chunks_written - self.report.chunks_embedded
        self.pending = []
        _tick(self.times, "write", t)


def _note_scanned_pages(doc: Document, report: IngestReport) -> None:
    """Pages read by OCR, and a warning for each page that shows something but stays unread."""
    labels = [p.label for p in doc.pages if p.ocr]
    if labels:
        report.ocr_pages[doc.doc_id] = labels
    for page in doc.pages:
        if page.unread_reason is not None:
            report.warn(doc.source, doc.doc_id, unread_warning(page))


def _embedded(chunk: Chunk) -> str:
    return embedding_text(chunk.title, chunk.section, chunk.text)


def _meta_changed(current: Any, doc: Document) -> bool:
    m = doc.meta
    return (current.title, current.municipality, current.doc_type, current.date,
            current.supersedes) != (
        m.title, m.municipality, m.doc_type, m.date or "", m.supersedes,
    ) or not same_source(current.source, doc.source)  # fmt: skip


def uploads_folder(settings: Settings) -> Path:
    """Where uploaded files are kept: ``uploads/`` in the store folder.

    Args:
        settings: store_dir.
    """
    return Path(settings.store_dir) / "uploads"


def absolute_source(path: str | Path) -> str:
    """How a source file is stored: an absolute path with '.' and '..' taken out (a
    symlink is kept as the user named it, so that removing the link prunes it)."""
    return os.path.abspath(path)


def same_source(stored: str, source: str) -> bool:
    """Whether a stored source names this file; an older store kept the path as typed,
    so a relative path that leads to the same file counts as the same source."""
    if absolute_source(stored) == absolute_source(source):
        return True
    try:
        return os.path.samefile(stored, source)
    except (OSError, ValueError):
        return False


def _other_holder(store: Store, doc: Document) -> str | None:
    """The source file that holds this document id in the store, when it is another file
    that still exists (two files claim one id); None when free, the same file or moved."""
    current = store.document(doc.doc_id)
    if current is None or same_source(current.source, doc.source):
        return None
    try:
        return current.source if Path(current.source).exists() else None
    except (OSError, ValueError):
        return None


def _under(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def _prune(store: Store, roots: list[Path], seen: dict[str, str]) -> list[str]:
    """Remove documents whose source lies under a given folder (or is a given file)
    but was not found in this run."""
    removed: list[str] = []
    resolved = [r.resolve() for r in roots]
    for rec in store.documents():
        if rec.doc_id in seen:
            continue
        src = Path(rec.source).resolve()
        under = any(src == r or r in src.parents for r in resolved)
        if under and not src.exists() and store.remove(rec.doc_id):
            removed.append(rec.doc_id)
    return removed


def remove_documents(
    doc_ids: Sequence[str], settings: Settings, store: Store | None = None
) -> list[str]:
    """Remove documents by id (staff action); returns the ids that existed."""
    store = store or Store(settings)
    with store.writer():
        removed = [d for d in doc_ids if store.remove(d)]
    metrics.observe_removed(len(removed))
    return removed
