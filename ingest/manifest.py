"""Corpus metadata: which files make up the corpus and what each one says about itself.

A corpus folder may hold a ``manifest.toml`` with one ``[[document]]`` table per file::

    [[document]]
    file = "beleid/ivb-2024-2027.pdf"   # relative to the manifest's folder
    id = "ivb-2024-2027"
    title = "Integraal Veiligheidsbeleid 2024-2027"
    municipality = "gezamenlijk"         # Dronten, Noordoostpolder, Urk, gezamenlijk
    doc_type = "beleid"                  # beleid, raadsinformatie, sessieverslag, wet, ...
    date = "2023-09-21"                  # YYYY-MM-DD, YYYY-MM or YYYY
    supersedes = ["ivb-2020-2023"]

and/or a sidecar ``<file>.meta.toml`` next to a file with the same keys minus ``file``.
A sidecar wins over the manifest, key by key. What neither says is inferred from the
document itself by :func:`complete_meta` (``load_document`` calls it).

Which manifests count: every ``manifest.toml`` inside a folder given to :func:`discover`
(at any depth; a deeper manifest wins over a shallower one for the same file), and for a
file given directly, the ``manifest.toml`` in that file's own folder.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from assistant.domain import (
    JOINT,
    MAX_ID_LENGTH,
    MUNICIPALITIES,
    UNKNOWN,
    canonical_municipality,
    document_id,
    is_document_id,
    normalise_date,
)
from assistant.types import Document, DocumentMeta
from ingest.errors import IngestError, Message, Reason

MANIFEST_NAME = "manifest.toml"
SIDECAR_SUFFIX = ".meta.toml"

_ENTRY_KEYS = frozenset({"id", "title", "municipality", "doc_type", "date", "supersedes"})
_TOWN_RES = {town: re.compile(rf"\b{town}\b") for town in MUNICIPALITIES}
_MAX_TITLE = 120
_MEANINGLESS_TITLES = re.compile(
    r"^(untitled|naamloos|document\d*|presentatie\d*|microsoft word.*|.*\.(docx?|pdf|txt|md))$",
    re.IGNORECASE,
)


def discover(paths: list[Path]) -> list[tuple[Path, DocumentMeta]]:
    """Expand files and folders into the corpus entries to ingest, each with its metadata.

    Folders are walked recursively; hidden files and folders, ``manifest.toml`` and
    ``*.meta.toml`` are skipped. Files of every extension are returned, so that the caller
    can report unsupported ones as failed. A path that does not exist is an error.

    Args:
        paths: files and/or folders, as the user gave them.

    Returns:
        ``(file, meta)`` pairs sorted by path, each file once. ``meta.title`` is empty when
        neither manifest nor sidecar gives one; :func:`complete_meta` fills it in.

    Raises:
        IngestError: a path does not exist, or a manifest or sidecar is invalid.
    """
    files: dict[Path, Path] = {}  # file -> the folder its derived id is relative to
    manifests: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found_files, found_manifests = _walk(path)
            files.update(dict.fromkeys(found_files, path))
            manifests.extend(found_manifests)
        elif path.is_file():
            if _is_metadata_file(path):
                continue
            files.setdefault(path, path.parent)
            local = path.parent / MANIFEST_NAME
            if local.is_file():
                manifests.append(local)
        else:
            raise IngestError(str(path), Reason.NOT_FOUND)

    # Deeper manifests last, so that they override shallower ones for the same file.
    by_file: dict[Path, dict[str, Any]] = {}
    seen_manifests: set[Path] = set()
    for manifest in sorted(manifests, key=lambda p: (len(p.resolve().parts), str(p))):
        key = manifest.resolve()
        if key in seen_manifests:
            continue
        seen_manifests.add(key)
        for target, entry in read_manifest(manifest).items():
            by_file[target] = entry

    results: list[tuple[Path, Path, dict[str, Any]]] = []
    for path in sorted(files, key=str):
        entry = dict(by_file.get(path.resolve(), {}))
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        if sidecar.is_file():
            entry.update(read_sidecar(sidecar))
        results.append((path, files[path], entry))

    return _assign_ids(results)


def read_manifest(manifest: Path) -> dict[Path, dict[str, Any]]:
    """Read and check one ``manifest.toml``.

    Args:
        manifest: path of the manifest file.

    Returns:
        The checked entries by resolved file path (keys as in a sidecar, without ``file``).

    Raises:
        IngestError: the manifest is not valid TOML, or an entry is incomplete or wrong.
    """
    data = _read_toml(manifest)
    unknown = set(data) - {"document"}
    if unknown:
        raise IngestError(
            str(manifest), Reason.MANIFEST_UNKNOWN_KEYS, keys=", ".join(sorted(unknown))
        )
    documents = data.get("document", [])
    if not isinstance(documents, list):
        raise IngestError(str(manifest), Reason.MANIFEST_NOT_LIST)
    entries: dict[Path, dict[str, Any]] = {}
    ids: set[str] = set()
    for number, raw in enumerate(documents, start=1):
        where = Message(Reason.ENTRY, {"number": number})
        if not isinstance(raw, dict):
            raise IngestError(str(manifest), Reason.ENTRY_NOT_TABLE, where=where)
        file = raw.get("file")
        if not isinstance(file, str) or not file.strip():
            raise IngestError(str(manifest), Reason.ENTRY_NO_FILE, where=where)
        target = (manifest.parent / file).resolve()
        if not target.is_file():
            raise IngestError(str(manifest), Reason.ENTRY_FILE_MISSING, where=where, file=file)
        rest = {k: v for k, v in raw.items() if k != "file"}
        entry = _check_entry(rest, str(manifest), where)
        if "id" in entry:
            if entry["id"] in ids:
                raise IngestError(
                    str(manifest), Reason.ENTRY_DUPLICATE_ID, where=where, id=entry["id"]
                )
            ids.add(entry["id"])
        if target in entries:
            raise IngestError(str(manifest), Reason.ENTRY_DUPLICATE_FILE, where=where, file=file)
        entries[target] = entry
    return entries


def read_sidecar(sidecar: Path) -> dict[str, Any]:
    """Read and check one ``<file>.meta.toml``.

    Args:
        sidecar: path of the sidecar file.

    Returns:
        The checked keys (a subset of id, title, municipality, doc_type, date, supersedes).

    Raises:
        IngestError: the sidecar is not valid TOML or has a wrong key or value.
    """
    data = _read_toml(sidecar)
    return _check_entry(data, str(sidecar), Message(Reason.SIDECAR))


def infer_municipality(text: str) -> str:
    """Guess which municipality a text is about from how often each is named.

    Args:
        text: the document text.

    Returns:
        ``"gezamenlijk"`` when Dronten, Noordoostpolder and Urk are all named; the one
        municipality that is named at least twice while the others are not named at all;
        otherwise ``"onbekend"``.
    """
    counts = {town: len(pattern.findall(text)) for town, pattern in _TOWN_RES.items()}
    named = [town for town, count in counts.items() if count > 0]
    if len(named) == len(MUNICIPALITIES):
        return JOINT
    if len(named) == 1 and counts[named[0]] >= 2:
        return named[0]
    return UNKNOWN


def infer_title(
    document_text: str,
    pdf_title: str | None,
    filename: str,
    headings: Sequence[str] = (),
) -> str:
    """Pick a human title for a document that has none in its manifest.

    Args:
        document_text: the text of the document (all pages).
        pdf_title: the title in the file's own metadata (PDF /Title, docx core title), if any.
        filename: the file name, used when nothing better is found.
        headings: headings the loader found, in order; the first one wins over the first
            line of text.

    Returns:
        The file's own title when it is meaningful, else the title a regulation gives
        itself ("Deze wet kan worden aangehaald als: Gemeentewet."), else the first
        heading, else the first
        non-empty line, else the file name without extension. A title longer than 120
        characters is cut at a word boundary and ends in "…".
    """
    if pdf_title:
        candidate = _clean_title(pdf_title)
        if candidate and not _MEANINGLESS_TITLES.match(candidate):
            return _shorten(candidate)
    cited = citation_title(document_text)
    if cited:
        return _shorten(cited)
    first_line = next((line for line in document_text.splitlines() if line.strip()), "")
    for candidate in (*headings[:1], first_line):
        cleaned = _clean_title(candidate)
        if len(cleaned) >= 3 and any(ch.isalpha() for ch in cleaned):
            return _shorten(cleaned)
    return re.sub(r"_+", " ", Path(filename).stem).strip() or filename


# "Deze wet kan worden aangehaald als: Gemeentewet." / "Deze verordening wordt aangehaald
# onder de titel 'Algemene plaatselijke verordening Urk'." Statutes and bylaws name their
# short title this way; their first heading is a long formal one ("Wet van 14 februari…").
_CITATION = re.compile(
    r"\bD(?:eze|it)\s+\w+\s+(?:kan\s+|kunnen\s+)?(?:wordt|worden)\s+aangehaald\s+"
    r"(?:als|onder\s+de\s+(?:citeer)?titel)\s*:?\s*"
    r"(?:[\"“‘']((?:['’]s-|[^\"”’'\n]){3,120})[\"”’']|([^\n]{3,120}?)\.(?:\s|$))",
    re.IGNORECASE,
)


def citation_title(document_text: str) -> str | None:
    """The short title a statute or bylaw says it may be cited by, if it says so.

    Args:
        document_text: the text of the document (all pages).
    """
    found = _CITATION.search(document_text)
    if not found:
        return None
    title = _clean_title(found.group(1) or found.group(2) or "")
    # "Politiewet, met vermelding van het jaartal van het Staatsblad waarin …"
    title = re.split(r",\s*met vermelding van\b", title, maxsplit=1)[0].strip()
    return title if len(title) >= 3 else None


def complete_meta(
    meta: DocumentMeta, document: Document, pdf_title: str | None = None
) -> DocumentMeta:
    """Fill in what the manifest left open: the title and the municipality.

    ``load_document`` calls this, so a loaded document's meta is already complete.

    Args:
        meta: metadata from :func:`discover` (or built by hand).
        document: the parsed document.
        pdf_title: the title stored in the file itself, if any.

    Returns:
        A copy of ``meta`` with ``title`` filled when it was empty and ``municipality``
        inferred from the text when the manifest or sidecar did not set it.
    """
    text = "\n\n".join(page.text for page in document.pages)
    update: dict[str, Any] = {}
    if not meta.title.strip():
        headings = [h for page in document.pages for h in page.headings]
        update["title"] = infer_title(text, pdf_title, Path(document.source).name, headings)
    if "municipality" not in meta.model_fields_set:
        update["municipality"] = infer_municipality(text)
    return meta.model_copy(update=update) if update else meta


def leaves_folder(path: Path, root: Path) -> bool:
    """Whether ``path`` is a link whose target lies outside the folder ``root``: a folder
    walk does not follow it (a link such as ``notulen.md -> /etc/passwd`` would index a
    file nobody put in the folder); a link within the folder is read as its target."""
    if not path.is_symlink():
        return False
    try:
        return not path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a link loop: not followed either
        return True


def _walk(root: Path) -> tuple[list[Path], list[Path]]:
    files: list[Path] = []
    manifests: list[Path] = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if leaves_folder(path, root):
                continue  # named by ingest.skipping
            if name == MANIFEST_NAME:
                manifests.append(path)
            elif not name.endswith(SIDECAR_SUFFIX) and path.is_file():
                files.append(path)
    return files, manifests


def _is_metadata_file(path: Path) -> bool:
    return path.name == MANIFEST_NAME or path.name.endswith(SIDECAR_SUFFIX)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise IngestError(str(path), Reason.TOML_INVALID, error=str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise IngestError(str(path), Reason.NOT_UTF8) from exc
    except OSError as exc:
        raise IngestError(str(path), Reason.METADATA_UNREADABLE, error=exc.strerror) from exc


def _check_entry(raw: Mapping[str, Any], where_file: str, where: Message) -> dict[str, Any]:
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise IngestError(
            where_file, Reason.ENTRY_UNKNOWN_KEYS, where=where,
            keys=", ".join(sorted(unknown)), allowed=", ".join(sorted(_ENTRY_KEYS)),
        )  # fmt: skip
    entry: dict[str, Any] = {}
    for key in ("id", "title", "doc_type"):
        if key in raw:
            value = raw[key]
            if not isinstance(value, str) or not value.strip():
                raise IngestError(where_file, Reason.ENTRY_EMPTY_TEXT, where=where, key=key)
            entry[key] = value.strip()
    if "id" in entry and not is_document_id(entry["id"]):
        raise IngestError(
            where_file, Reason.ENTRY_INVALID_ID, where=where, id=entry["id"], max=MAX_ID_LENGTH
        )
    if "date" in raw:
        try:
            entry["date"] = normalise_date(raw["date"])
        except ValueError:
            raise IngestError(
                where_file, Reason.ENTRY_INVALID_DATE, where=where, value=raw["date"]
            ) from None
    if "municipality" in raw:
        value = raw["municipality"]
        canonical = canonical_municipality(value) if isinstance(value, str) else None
        if canonical is None:
            raise IngestError(
                where_file, Reason.ENTRY_UNKNOWN_MUNICIPALITY, where=where, value=value,
                choices=(*MUNICIPALITIES, JOINT),
            )  # fmt: skip
        entry["municipality"] = canonical
    if "supersedes" in raw:
        value = raw["supersedes"]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise IngestError(where_file, Reason.ENTRY_SUPERSEDES, where=where)
        entry["supersedes"] = [v.strip() for v in value]
    return entry


def _assign_ids(
    results: Iterable[tuple[Path, Path, dict[str, Any]]],
) -> list[tuple[Path, DocumentMeta]]:
    """Explicit ids win; derived ids come from the file name, or its path when names clash."""
    items = list(results)
    explicit: dict[str, Path] = {}
    for path, _root, entry in items:
        if "id" in entry:
            other = explicit.get(entry["id"])
            if other is not None:
                raise IngestError(str(path), Reason.SAME_ID, id=entry["id"], other=str(other))
            explicit[entry["id"]] = path

    stems: dict[str, int] = {}
    for path, _root, entry in items:
        if "id" not in entry:
            stem = document_id(path.stem)
            stems[stem] = stems.get(stem, 0) + 1

    used = set(explicit)
    metas: list[tuple[Path, DocumentMeta]] = []
    for path, root, entry in items:
        fields = dict(entry)
        if "id" not in fields:
            doc_id = document_id(path.stem)
            if stems[doc_id] > 1 or doc_id in used:
                # Same name in two folders (or as two formats): the relative path decides.
                relative = path.relative_to(root) if path.is_relative_to(root) else path
                base = document_id(".".join(relative.with_suffix("").parts))
                doc_id = base
                if doc_id in used:
                    doc_id = document_id(f"{base}.{path.suffix.lstrip('.')}")
                counter = 2
                while doc_id in used:
                    tail = f".{counter}"
                    doc_id = base[: MAX_ID_LENGTH - len(tail)] + tail
                    counter += 1
            fields["id"] = doc_id
        used.add(fields["id"])
        meta_fields = {"doc_id": fields.pop("id"), "title": fields.pop("title", "")}
        meta_fields.update(fields)
        metas.append((path, DocumentMeta(**meta_fields)))
    return metas


def _clean_title(text: str) -> str:
    text = re.sub(r"^#{1,6}\s*", "", text.strip())
    return re.sub(r"\s+", " ", text).strip()


def _shorten(text: str) -> str:
    if len(text) <= _MAX_TITLE:
        return text
    cut = text[: _MAX_TITLE - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return f"{cut}…"
