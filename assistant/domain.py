"""The facts of the domain, stated once: the municipalities, the kinds of document, what a
document id may look like and how a date may be written.

The manifest, the sidecars, staff uploads, the command line and the web page all check
their input against these rules, so a value one of them accepts is accepted by all.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal, get_args

Town = Literal["Dronten", "Noordoostpolder", "Urk"]
Municipality = Literal[Town, "gezamenlijk", "onbekend"]

MUNICIPALITIES: tuple[str, ...] = get_args(Town)
"""The three municipalities of the IVB, in the order the pages list them."""
JOINT = "gezamenlijk"
"""The municipality value of a document of all three; it answers every municipality's
question."""
UNKNOWN = "onbekend"
"""The municipality (or document type) when nothing says which."""
MUNICIPALITY_VALUES: tuple[str, ...] = get_args(Municipality)
"""Every value a document's municipality may take."""

DOC_TYPES: tuple[str, ...] = ("beleid", "raadsinformatie", "sessieverslag", "wet", "overig")
"""The document kinds offered on the staff page; a manifest may use another word."""

MAX_ID_LENGTH = 100
_ID_RE = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_ID_LENGTH - 1}}}$")
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
DATE_FORMATS = "JJJJ-MM-DD, JJJJ-MM of JJJJ"
"""How a date may be written, in the words the error messages use."""


def or_list(words: tuple[str, ...] | list[str], conjunction: str = "of") -> str:
    """'Dronten, Noordoostpolder of Urk': words joined the Dutch way."""
    *rest, last = words
    return f"{', '.join(rest)} {conjunction} {last}" if rest else last


def canonical_municipality(value: str) -> str | None:
    """The municipality value meant by ``value``, whatever its case ('urk' → 'Urk');
    None when it names none of :data:`MUNICIPALITY_VALUES`."""
    wanted = value.strip().lower()
    return next((m for m in MUNICIPALITY_VALUES if m.lower() == wanted), None)


def is_document_id(text: str) -> bool:
    """Whether ``text`` is a valid document id: 1 to 100 characters of ``A-Za-z0-9._-``,
    starting with a letter or digit."""
    return bool(_ID_RE.match(text))


def check_document_id(text: str) -> str:
    """``text`` when it is a valid document id (see :func:`is_document_id`).

    Raises:
        ValueError: a Dutch message that names the id and the rule.
    """
    if not is_document_id(text):
        raise ValueError(
            f"id '{text}' is ongeldig: gebruik letters, cijfers, '.', '_' en '-' (hoogstens "
            f"{MAX_ID_LENGTH} tekens), en begin met een letter of cijfer"
        )
    return text


def document_id(name: str) -> str:
    """The document id made from a file name (or a relative path without extension).

    Runs of characters outside ``A-Za-z0-9._-`` become one ``_``; leading and trailing
    ``._-`` go; the result is cut to 100 characters. Always a valid id ("document" when
    nothing is left).
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")
    cleaned = cleaned[:MAX_ID_LENGTH].rstrip("._-")
    return cleaned or "document"


def parse_date(text: str, *, end: bool = False) -> dt.date:
    """A date written as ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.

    Args:
        text: the date as written (surrounding spaces are ignored).
        end: for a month or a year, its last day instead of its first.

    Raises:
        ValueError: not one of those forms, or not a day of the calendar (a Dutch message).
    """
    found = _DATE_RE.match(text.strip())
    try:
        if found is None:
            raise ValueError(text)
        year, month, day = (int(g) if g else None for g in found.groups())
        if month is None:
            return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
        if day is None:
            first = dt.date(year, month, 1)
            following = dt.date(year + month // 12, month % 12 + 1, 1)
            return following - dt.timedelta(days=1) if end else first
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"datum '{text}' is ongeldig; schrijf {DATE_FORMATS}") from None


def normalise_date(value: object) -> str:
    """A document date as the index keeps it: ISO text at the precision it was written.

    Args:
        value: text in one of the forms of :func:`parse_date`, a year as a number, or a
            date or datetime (TOML has both).

    Returns:
        ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.

    Raises:
        ValueError: anything else (a Dutch message).
    """
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return str(value)
    if isinstance(value, str):
        parse_date(value)
        return value.strip()
    raise ValueError(f"datum '{value}' is ongeldig; schrijf {DATE_FORMATS}")
