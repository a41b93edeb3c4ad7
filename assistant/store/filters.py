"""Retrieval filters, stated once as conditions that each index translates.

A condition names a filter value of a chunk (:func:`filter_values`), an operator and an
operand. The vector index turns the conditions into its own query language (Chroma's
``where``, see ``vectors.chroma_where``); a keyword index that cannot filter inside its
query checks each chunk with :meth:`Filters.accepts`. Both read the same conditions, so
the two result lists always obey the same rule.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from assistant.domain import JOINT
from assistant.types import Chunk

Op = Literal["in", "eq", "gte", "lte"]
OPERATORS: dict[Op, Callable[[Any, Any], bool]] = {
    "in": lambda value, operand: value in operand,
    "eq": operator.eq,
    "gte": operator.ge,
    "lte": operator.le,
}


def date_number(date: str, end: bool = False) -> int:
    """A date as a number that sorts like the date, as the vector index stores it.

    '2024-03-01' → 20240301; '2024' → 20240000 (or 20241231 as an upper bound); '2024-03'
    → 20240300 (or 20240331); no digits → 0. A month or year as a document date sorts
    before every day of it, so ``--vanaf 2024-01-01`` leaves out a document dated "2024".
    """
    digits = "".join(ch for ch in date if ch.isdigit())
    if not digits:
        return 0
    pad = ("1231" if len(digits) == 4 else "31") if end else "0000"
    digits = (digits + pad)[:8] if len(digits) < 8 else digits[:8]
    return int(digits)


def filter_values(chunk: Chunk) -> dict[str, str | int]:
    """The values of a chunk that filters test: municipality, doc_type, date_num."""
    return {
        "municipality": chunk.municipality,
        "doc_type": chunk.doc_type,
        "date_num": date_number(chunk.date),
    }


@dataclass(frozen=True)
class Condition:
    """One filter rule: ``filter_values(chunk)[field] <op> operand``."""

    field: str
    op: Op
    operand: Any

    def holds(self, values: Mapping[str, Any]) -> bool:
        return OPERATORS[self.op](values[self.field], self.operand)


@dataclass
class Filters:
    """Retrieval filters; None means no filter.

    A municipality's question is also answered by the joint documents ("gezamenlijk").
    Dates are ISO text (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``), both bounds inclusive.
    """

    municipality: str | None = None
    doc_type: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def conditions(self) -> list[Condition]:
        """The rules a chunk must meet, all of them (empty: no filter)."""
        rules: list[Condition] = []
        if self.municipality:
            rules.append(Condition("municipality", "in", [self.municipality, JOINT]))
        if self.doc_type:
            rules.append(Condition("doc_type", "eq", self.doc_type))
        if self.date_from:
            rules.append(Condition("date_num", "gte", date_number(self.date_from)))
        if self.date_to:
            rules.append(Condition("date_num", "lte", date_number(self.date_to, end=True)))
        return rules

    def accepts(self, chunk: Chunk) -> bool:
        """Whether the chunk meets every condition."""
        values = filter_values(chunk)
        return all(rule.holds(values) for rule in self.conditions())
