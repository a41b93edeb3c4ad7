"""The metadata staff give with an upload: one `UploadMeta`, made from the staff page's or
the API's form fields (`UploadMeta.from_form`), checked before anything is written
(`UploadMeta.checked`) and stored next to the file as its ``<file>.meta.toml`` sidecar
(`sidecar_text`, read back by `ingest.manifest`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.domain import MAX_ID_LENGTH, document_id, is_document_id, parse_date
from ingest.errors import FieldError, Reason


@dataclass(frozen=True)
class UploadMeta:
    """An upload's metadata: as staff typed it (any field may be empty), or, from
    `checked`, as it is stored.

    Attributes:
        doc_id: the document id, 1 to 100 characters of ``A-Za-z0-9._-``; empty: one made
            from the file name (by `checked`).
        title: the title; empty: taken from the document.
        municipality: "gezamenlijk", one of assistant.domain.MUNICIPALITIES, or empty (read
            from the text).
        doc_type: the kind of document (e.g. "beleid"), or empty.
        date: "JJJJ-MM-DD", "JJJJ-MM", "JJJJ" or empty.
        supersedes: ids of the documents this one replaces (each a document id).
    """

    doc_id: str = ""
    title: str = ""
    municipality: str = ""
    doc_type: str = ""
    date: str = ""
    supersedes: tuple[str, ...] = ()

    @classmethod
    def from_form(
        cls,
        doc_id: str | None = "",
        title: str | None = "",
        municipality: str | None = "",
        doc_type: str | None = "",
        date: str | None = "",
        supersedes: str | Sequence[str] | None = "",
    ) -> UploadMeta:
        """The metadata from form fields, as typed (None counts as empty).

        Args:
            doc_id: the document id, or empty.
            title: the title, or empty.
            municipality: "gezamenlijk", a municipality, or empty.
            doc_type: the kind of document, or empty.
            date: "JJJJ-MM-DD", "JJJJ-MM", "JJJJ" or empty.
            supersedes: ids this document replaces, as a list or one text separated by
                commas and/or spaces.
        """
        if isinstance(supersedes, str) or supersedes is None:
            supersedes = re.split(r"[,\s]+", supersedes or "")
        return cls(
            doc_id=doc_id or "",
            title=title or "",
            municipality=municipality or "",
            doc_type=doc_type or "",
            date=date or "",
            supersedes=tuple(s for s in supersedes if s),
        )

    def checked(self, file_stem: str) -> UploadMeta:
        """The metadata as it is stored: trimmed, the id made from the file name when
        empty, the id, the date and every id in ``supersedes`` checked.

        Args:
            file_stem: the sanitised upload file name without its extension.

        Raises:
            FieldError: a ValueError that names the field and what is wrong with it.
        """
        doc_id = self.doc_id.strip() or document_id(file_stem)
        date = self.date.strip()
        if not is_document_id(doc_id):
            raise FieldError(Reason.INVALID_ID, id=doc_id, max=MAX_ID_LENGTH)
        if date:
            try:
                parse_date(date)
            except ValueError:
                raise FieldError(Reason.INVALID_DATE, value=date) from None
        replaced = tuple(s for s in self.supersedes if s)
        bad = [s for s in replaced if not is_document_id(s)]
        if bad:
            raise FieldError(Reason.INVALID_SUPERSEDES, ids=", ".join(bad))
        return replace(
            self,
            doc_id=doc_id,
            title=self.title.strip(),
            doc_type=self.doc_type.strip(),
            date=date,
            supersedes=replaced,
        )

    def sidecar_fields(self) -> dict[str, str | list[str]]:
        """The sidecar's keys (those ingest.manifest reads), in the order they are written,
        with their values; ``supersedes`` a list."""
        return {
            "id": self.doc_id,
            "title": self.title,
            "municipality": self.municipality,
            "doc_type": self.doc_type,
            "date": self.date,
            "supersedes": list(self.supersedes),
        }


def sidecar_text(meta: UploadMeta) -> str:
    """The ``<file>.meta.toml`` for an upload's metadata (empty values left out).

    Args:
        meta: the checked metadata (`UploadMeta.checked`).
    """
    lines = ["# Metadata of an upload through the staff page."]
    for key, value in meta.sidecar_fields().items():
        if value:
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: str | list[str]) -> str:
    # A JSON string is a valid TOML basic string once DEL and other controls are gone.
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    clean = "".join(ch for ch in value if ch.isprintable())
    return json.dumps(clean, ensure_ascii=False)
