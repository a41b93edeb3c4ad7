"""The domain rules (ids, dates, municipalities) and the store's one filter rule."""

from __future__ import annotations

import datetime as dt
from typing import get_args

import numpy as np
import pytest

from assistant.domain import (
    JOINT,
    MUNICIPALITIES,
    UNKNOWN,
    Municipality,
    canonical_municipality,
    check_document_id,
    document_id,
    is_document_id,
    normalise_date,
    parse_date,
)
from assistant.store import Filters, Store
from assistant.types import Chunk


def test_one_municipality_list():
    assert MUNICIPALITIES == ("Dronten", "Noordoostpolder", "Urk")
    assert get_args(Municipality) == (*MUNICIPALITIES, JOINT, UNKNOWN)
    assert canonical_municipality(" urk ") == "Urk"
    assert canonical_municipality("GEZAMENLIJK") == JOINT
    assert canonical_municipality("Lelystad") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("IVB 2024-2027 (definitief)", "IVB_2024-2027_definitief"),
        ("..verborgen", "verborgen"),
        ("***", "document"),
        ("a" * 150, "a" * 100),
    ],
)
def test_a_derived_id_is_always_valid(name, expected):
    assert document_id(name) == expected
    assert is_document_id(document_id(name))


@pytest.mark.parametrize("bad", ["", "met spatie", "../evil", ".verborgen", "-x", "a" * 101])
def test_invalid_ids_are_refused_with_the_rule(bad):
    assert not is_document_id(bad)
    with pytest.raises(ValueError, match="ongeldig"):
        check_document_id(bad)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024-03-05", dt.date(2024, 3, 5), dt.date(2024, 3, 5)),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2024-12", dt.date(2024, 12, 1), dt.date(2024, 12, 31)),
        (" 2024 ", dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    ],
)
def test_one_date_rule(text, start, end):
    assert parse_date(text) == start
    assert parse_date(text, end=True) == end


@pytest.mark.parametrize("bad", ["maart 2024", "2024-13", "2024-02-30", "24-03-01", "0000", ""])
def test_invalid_dates_are_refused(bad):
    with pytest.raises(ValueError, match="JJJJ-MM-DD, JJJJ-MM of JJJJ"):
        parse_date(bad)


def test_document_dates_keep_their_precision():
    assert normalise_date("2024-03") == "2024-03"
    assert normalise_date(2024) == "2024"
    assert normalise_date(dt.date(2024, 3, 1)) == "2024-03-01"
    assert normalise_date(dt.datetime(2024, 3, 1, 12, 0)) == "2024-03-01"
    with pytest.raises(ValueError):
        normalise_date(True)


def _chunk(n: int, municipality: str, doc_type: str, date: str) -> Chunk:
    return Chunk(id=f"c{n}", doc_id=f"d{n}", source="x.md", title="T", text=f"tekst {n}",
                 ordinal=0, page_start=0, page_end=0, page_label_start="1",
                 page_label_end="1", municipality=municipality, doc_type=doc_type, date=date,
                 content_hash=f"h{n}", doc_hash="v")  # fmt: skip


def test_vector_and_keyword_filters_obey_one_rule(settings):
    """Chroma filters with the translated conditions, the keyword side with accepts():
    for every filter both admit exactly the same chunks."""
    values = [("Urk", "beleid", "2024-03-05"), (JOINT, "wet", "2023"), ("Dronten", "beleid", ""),
              ("Urk", "wet", "2024-03"), ("Noordoostpolder", "overig", "2025-01-01")]  # fmt: skip
    chunks = [_chunk(n, *v) for n, v in enumerate(values)]
    store = Store(settings)
    store.vectors.upsert(chunks, np.random.default_rng(0).normal(size=(len(chunks), 8)))
    for filters in [
        Filters(municipality="Urk"),
        Filters(doc_type="beleid"),
        Filters(date_from="2024-03"),
        Filters(date_from="2024-03-01"),
        Filters(date_to="2024-03"),
        Filters(date_to="2024"),
        Filters(municipality="Urk", doc_type="wet", date_from="2023", date_to="2024"),
    ]:
        found = {i for i, _ in store.vectors.query(np.ones(8), len(chunks), filters)}
        assert found == {c.id for c in chunks if filters.accepts(c)}, filters
    # The rule itself, spelled out once here: joint documents answer every municipality.
    assert {c.id for c in chunks if Filters(municipality="Urk").accepts(c)} == {"c0", "c1", "c3"}
    assert {c.id for c in chunks if Filters(date_from="2024-03-01").accepts(c)} == {"c0", "c4"}
