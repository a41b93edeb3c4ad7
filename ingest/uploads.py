"""Staff uploads: a file is checked, stored under ``<store>/uploads/`` with a metadata
sidecar, and ingested; when anything fails, the folder and the index stay as they were.

`ingest_upload` does all of that in one call, for a file and its `UploadMeta`
(`ingest.upload_meta`), and says what happened in an `UploadResult`; `remove_document`
takes a document out of the index together with its upload file. The messages are plain
text in the caller's language (``lang``, Dutch by default) that names the file or field and
what to do, with the `Reason` as ``code``; escaping them for a page is the caller's job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from assistant.settings import Settings
from assistant.store import StoreLockedError
from assistant.types import DocumentRecord
from ingest.errors import FieldError, Message, Reason
from ingest.pipeline import IngestReport, ingest_paths, remove_documents, uploads_folder
from ingest.readers import FORMATS, UPLOAD_TYPES
from ingest.upload_meta import UploadMeta, sidecar_text

if TYPE_CHECKING:
    from assistant.service import Service

log = logging.getLogger("ivb.uploads")

SIDECAR_SUFFIX = ".meta.toml"

Action = Literal["added", "replaced", "updated", "unchanged"]


@dataclass
class UploadResult:
    """What an upload did. When ``ok`` is false, nothing changed: not the uploads folder,
    not the index.

    ``error`` says why (plain text naming the file or field) and ``code`` is its reason,
    with one line per failed file in ``reasons``. When ``ok``, ``action`` says what
    happened to ``doc_id``, which now has ``chunks`` chunks; ``note`` warns about an old
    file left outside the uploads folder; ``ocr_pages`` are the page labels read by OCR
    and ``warnings`` name pages that stayed unread. ``duplicate_of`` is the indexed
    document with the same text when the upload was refused as a copy.
    """

    ok: bool
    error: str = ""
    reasons: list[str] = field(default_factory=list)
    doc_id: str = ""
    action: Action | None = None
    chunks: int = 0
    note: str = ""
    ocr_pages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicate_of: str = ""
    code: Reason | None = None


@dataclass
class RemoveResult:
    """What removing a document did: ``ok`` when ``doc_id`` was in the index and is gone;
    ``error`` says why not (``code``: its reason); ``note`` says where a file that is not an
    upload still lies."""

    ok: bool
    doc_id: str = ""
    error: str = ""
    note: str = ""
    code: Reason | None = None


@dataclass
class StagedUpload:
    """An upload written into the uploads folder, undoable until committed."""

    target: Path
    sidecar: Path
    backups: list[tuple[Path, Path]] = field(default_factory=list)  # (backup, original)

    def rollback(self) -> None:
        """Remove the new file and sidecar and put back what they replaced."""
        for path in (self.target, self.sidecar):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        for backup, original in self.backups:
            os.replace(backup, original)
        self.backups.clear()

    def commit(self) -> None:
        """Keep the new file and sidecar; drop the backups of what they replaced."""
        for backup, _ in self.backups:
            with contextlib.suppress(FileNotFoundError):
                backup.unlink()
        self.backups.clear()


def sanitise_filename(name: str, max_bytes: int = 120) -> str:
    """A safe base name for an uploaded file: no folders, no '..', no control characters.

    Args:
        name: the name the browser sent (may hold folders, NUL bytes or anything else).
        max_bytes: the longest result in UTF-8 bytes; the extension is kept.

    Returns:
        A plain file name that cannot leave the folder it is joined to; "upload" when
        nothing usable is left.
    """
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    name = re.sub(r"\s+", " ", name)
    while ".." in name:
        name = name.replace("..", ".")
    name = name.strip(" .-")
    stem, dot, ext = name.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,8}", ext):
        stem, ext = name, ""
    ext = f".{ext.lower()}" if ext else ""
    stem = stem.strip(" .-") or "upload"
    budget = max(1, max_bytes - len(ext.encode()))
    while len(stem.encode()) > budget:
        stem = stem[:-1]
    return stem.rstrip(" .-") + ext or "upload"


def stage_upload(
    source: Path, uploads: Path, filename: str, meta: UploadMeta, owner_of: dict[str, str]
) -> StagedUpload:
    """Copy an upload into the uploads folder under a safe name, with its sidecar.

    A file of the same name that belongs to another document is left alone (the new one
    gets a numbered name); one that belongs to this document is kept aside until commit.

    Args:
        source: the uploaded temporary file.
        uploads: the uploads folder (created when missing).
        filename: the file name the browser sent.
        meta: the checked metadata (`UploadMeta.checked`), written to the sidecar.
        owner_of: resolved source path -> doc_id of the documents in the index.
    """
    uploads.mkdir(parents=True, exist_ok=True)
    root = uploads.resolve()
    name = sanitise_filename(filename)
    stem, ext = os.path.splitext(name)
    target = root / name
    counter = 2
    while target.exists() and owner_of.get(str(target), meta.doc_id) != meta.doc_id:
        target = root / f"{stem}-{counter}{ext}"
        counter += 1
    if target.parent != root:  # sanitise_filename makes this impossible; belt and braces
        raise ValueError(f"{filename}: ongeldige bestandsnaam")
    staged = StagedUpload(target, _sidecar_of(target))
    backup_dir = root / ".backup"
    for path in (staged.target, staged.sidecar):
        if path.exists():
            backup_dir.mkdir(exist_ok=True)
            backup = backup_dir / f"{uuid.uuid4().hex}-{path.name}"
            os.replace(path, backup)
            staged.backups.append((backup, path))
    try:
        shutil.copyfile(source, staged.target)
        staged.sidecar.write_text(sidecar_text(meta), encoding="utf-8")
    except BaseException:
        staged.rollback()
        raise
    return staged


def check_upload(
    file: str | Path | None, settings: Settings, meta: UploadMeta | None = None
) -> UploadMeta:
    """The metadata of an upload, checked before anything is written.

    Args:
        file: the uploaded file.
        settings: max_file_mb.
        meta: the metadata as staff gave it (None: all empty).

    Returns:
        The metadata for the sidecar (`UploadMeta.checked`: the id filled in, fields
        trimmed).

    Raises:
        FieldError: a ValueError whose message names the file or field and what to do.
    """
    if not file:
        raise FieldError(Reason.CHOOSE_FILE)
    upload = Path(file)
    original = sanitise_filename(upload.name)
    ext = Path(original).suffix.lower()
    if not ext:
        raise FieldError(Reason.UPLOAD_NO_TYPE, name=original, formats=FORMATS)
    if ext not in UPLOAD_TYPES:
        raise FieldError(Reason.UPLOAD_TYPE, name=original, suffix=ext, formats=FORMATS)
    size_mb = upload.stat().st_size / 1_000_000
    if size_mb > settings.max_file_mb:
        raise FieldError(
            Reason.UPLOAD_TOO_LARGE, name=original, size=size_mb, limit=settings.max_file_mb
        )
    return (meta or UploadMeta()).checked(Path(original).stem)


def ingest_upload(
    service: Service, file: str | Path | None, meta: UploadMeta | None = None, lang: str = "nl"
) -> UploadResult:
    """Check an upload, store it under the uploads folder with its sidecar and ingest it.

    A file that belongs to the same document id replaces it (the old upload file goes);
    when the check, the ingest or the store lock fails, the uploads folder and the index
    are left as they were.

    Args:
        service: the store to ingest into and the embedder to index with.
        file: the uploaded (temporary) file; its name becomes the stored file's name.
        meta: the metadata as staff gave it (None: all empty: the id from the file name,
            the rest from the document).
        lang: the language of the result's texts ("nl" or "en").
    """
    settings = service.settings
    try:
        meta = check_upload(file, settings, meta)
    except FieldError as exc:
        return _refused(exc.message, lang)
    upload = Path(str(file))
    original = sanitise_filename(upload.name)
    doc_id = meta.doc_id
    store = service.store
    uploads = uploads_folder(settings)
    records = store.documents()
    owner_of = {str(Path(d.source).resolve()): d.doc_id for d in records}
    previous = next((d for d in records if d.doc_id == doc_id), None)
    staged = stage_upload(upload, uploads, upload.name, meta, owner_of)
    report = _ingest_staged(service, staged, doc_id, original, lang)
    if isinstance(report, UploadResult):
        return report
    staged.commit()
    note = _forget_old_source(previous, staged.target, uploads)
    record = store.document(doc_id)
    action = _action(report, previous, record)
    chunks = record.chunk_count if record else 0
    return UploadResult(
        ok=True, doc_id=doc_id, action=action, chunks=chunks,
        note=note.text(lang) if note else "", ocr_pages=report.ocr_pages.get(doc_id, []),
        warnings=[w["warning"] for w in report.warnings],
    )  # fmt: skip


def _refused(
    message: Message, lang: str, reasons: list[str] | None = None, duplicate_of: str = ""
) -> UploadResult:
    """A failed upload: the message in ``lang``, with its reason as the code."""
    return UploadResult(
        ok=False, error=message.text(lang), reasons=reasons or [], duplicate_of=duplicate_of,
        code=message.reason,
    )  # fmt: skip


def _ingest_staged(
    service: Service, staged: StagedUpload, doc_id: str, original: str, lang: str
) -> IngestReport | UploadResult:
    """Ingest a staged upload; on any failure roll the staging back and say why.

    Returns:
        The ingest report when the document is in the index (not committed yet), else
        the failed ``UploadResult`` to show.
    """
    settings, store = service.settings, service.store
    try:
        report = ingest_paths(
            [staged.target],
            settings,
            store=store,
            embedder=service.retriever.embedder,
            replaces=[doc_id],  # an upload under an existing id replaces that document
            lang=lang,
        )
    except StoreLockedError:
        staged.rollback()
        return _refused(Message(Reason.UPLOAD_BUSY), lang)
    except Exception as exc:
        staged.rollback()
        log.exception("upload ingest failed")
        failed = {"name": original, "error": type(exc).__name__}
        return _refused(Message(Reason.UPLOAD_FAILED, failed), lang)
    if report.duplicates:
        staged.rollback()
        duplicate = report.duplicates[0]["duplicate_of"]
        return _refused(
            Message(Reason.UPLOAD_DUPLICATE, {"doc_id": duplicate}),
            lang,
            reasons=[f"{original}: {s['reason']}" for s in report.skipped],
            duplicate_of=duplicate,
        )
    if report.failed or not (report.added or report.updated or report.unchanged):
        staged.rollback()
        reasons = [f["error"].replace(str(staged.target), original) for f in report.failed]
        nothing = Message(Reason.NOTHING_INGESTED, {"name": original})
        return _refused(Message(Reason.NOT_INGESTED), lang, reasons or [nothing.text(lang)])
    return report


def _action(
    report: IngestReport, previous: DocumentRecord | None, record: DocumentRecord | None
) -> Action:
    """What an accepted upload did to the index, compared with the document it replaced."""
    return (
        "added"
        if report.added
        else "replaced"
        if previous is not None and previous.doc_hash != (record.doc_hash if record else "")
        else "updated"
        if report.updated
        else "unchanged"
    )


def remove_document(service: Service, doc_id: str | None, lang: str = "nl") -> RemoveResult:
    """Take a document out of the index, and its file out of the uploads folder.

    A source file outside the uploads folder is left alone; ``note`` then says where it is,
    because re-reading that folder brings the document back.

    Args:
        service: the store to remove from.
        doc_id: the document's id.
        lang: the language of the result's texts ("nl" or "en").
    """

    def refused(reason: Reason, **values: str) -> RemoveResult:
        return RemoveResult(ok=False, error=Message(reason, values).text(lang), code=reason)

    if not doc_id:
        return refused(Reason.CHOOSE_DOCUMENT)
    record = service.store.document(doc_id)
    try:
        removed = remove_documents([doc_id], service.settings, store=service.store)
    except StoreLockedError:
        return refused(Reason.REMOVE_BUSY)
    if not removed:
        return refused(Reason.NOT_IN_INDEX, doc_id=doc_id)
    note = ""
    if record is not None:
        source = Path(record.source).resolve()
        if not remove_upload_files(source, uploads_folder(service.settings)) and source.exists():
            note = Message(Reason.FILE_KEPT, {"folder": str(source.parent)}).text(lang)
    return RemoveResult(ok=True, doc_id=doc_id, note=note)


def remove_upload_files(source: str | Path, uploads: Path) -> bool:
    """Delete a document's file and its sidecar when they lie in the uploads folder.

    Args:
        source: the document's source file.
        uploads: the uploads folder.

    Returns:
        Whether the file lay in the uploads folder (and so is gone now).
    """
    path = Path(source).resolve()
    if path.parent != uploads.resolve():
        return False
    for file in (path, _sidecar_of(path)):
        with contextlib.suppress(FileNotFoundError):
            file.unlink()
    return True


def _sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _forget_old_source(previous: DocumentRecord | None, new: Path, uploads: Path) -> Message | None:
    """After a replace: remove the old upload file, or say where the old file still is."""
    if previous is None:
        return None
    old = Path(previous.source).resolve()
    if old == new.resolve() or remove_upload_files(old, uploads):
        return None
    return Message(Reason.OLD_FILE_KEPT, {"name": old.name, "folder": str(old.parent)})
