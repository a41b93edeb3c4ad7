"""The REST API's request and response bodies (pydantic): what /api/v1 takes and gives,
as its OpenAPI schema (/api/v1/openapi.json) describes them.

Field descriptions (most in Dutch) are the documentation the API's users read.
"""

# No `from __future__ import annotations`: pydantic and FastAPI read these annotations at
# run time, and the Literal types below are built from values.

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from assistant.domain import MUNICIPALITIES, parse_date
from web.export import EXPORT_FORMATS
from web.i18n import LANGUAGES
from web.questions import ALL, MAX_QUESTION

Audience = Literal["raad", "inwoner"]
MunicipalityChoice = Literal[(ALL, *MUNICIPALITIES)]  # type: ignore[valid-type]


class HistoryTurn(BaseModel):
    """An earlier turn of the conversation a follow-up is read with."""

    question: str = Field(max_length=MAX_QUESTION)
    answer: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    """A question, with the choices the chat offers."""

    question: str = Field(
        min_length=1,
        max_length=MAX_QUESTION,
        examples=["Welke thema's hebben de drie gemeenten samen geprioriteerd?"],
    )
    audience: Audience | None = Field(
        None, description="raad (precies) of inwoner (eenvoudige taal, B1); leeg: standaard"
    )
    municipality: MunicipalityChoice = Field(  # type: ignore[valid-type]
        ALL, description="alleen documenten van deze gemeente en de gezamenlijke; 'alle': alle"
    )
    doc_type: str | None = Field(None, max_length=40, description="alleen dit soort document")
    date_from: str | None = Field(None, max_length=10, description="vanaf JJJJ[-MM[-DD]]")
    date_to: str | None = Field(None, max_length=10, description="tot en met JJJJ[-MM[-DD]]")
    backend: str | None = Field(
        None, description="extractive, local of openai (wat deze server heeft); leeg: standaard"
    )
    history: list[HistoryTurn] = Field(default_factory=list, max_length=50)
    stream: bool = Field(
        False,
        description="true (of Accept: text/event-stream): server-sent events: queue, token, answer",
    )
    lang: Literal[LANGUAGES] | None = Field(  # type: ignore[valid-type]
        None,
        description=(
            "de taal van de vaste teksten: weigeringen en meldingen, de wachtrijtekst en "
            "foutmeldingen (nl of en); leeg: weigeringen en meldingen in de taal van de vraag, "
            "de rest volgens de cookie ivb_lang, anders Accept-Language, anders nl"
        ),
    )

    @field_validator("date_from", "date_to")
    @classmethod
    def _a_date(cls, value: str | None) -> str | None:
        if value:
            parse_date(value)  # ValueError with a Dutch message: a 422
        return value or None


class CitationOut(BaseModel):
    """One checked source: the document, its page label and the exact quoted spans.

    One citation per chunk: ``quotes`` holds every sentence of it that the answer rests
    on, verbatim, in the order the answer first uses them; ``quote`` is the first of them
    (the field of the first version of this API, kept for its clients).
    """

    n: int
    chunk_id: str
    doc_id: str
    title: str
    page: str
    page_index: int
    source: str
    section: str = ""
    municipality: str = ""
    quote: str
    superseded: bool = False
    quotes: list[str] = Field(default_factory=list)


class PassageOut(BaseModel):
    """A retrieved passage with its scores."""

    id: str
    doc_id: str
    source: str
    title: str
    page: str
    page_index: int
    section: str
    municipality: str
    doc_type: str
    score: float
    dense_score: float | None
    keyword_score: float | None
    superseded: bool
    text: str


class AnswerOut(BaseModel):
    """The structured answer (the shape of ``ivb ask --json``).

    ``refused`` with ``refusal_reason``: injection, no_relevant_passage, key_terms_missing,
    unknown_terms, unsupported or busy. ``timings`` in seconds per stage.
    """

    question: str
    standalone_question: str
    answer: str
    refused: bool
    refusal_reason: str
    language: str
    audience: str
    citations: list[CitationOut]
    unsupported_sentences: list[str]
    passages: list[PassageOut]
    timings: dict[str, float]
    backend: str
    model: str
    fallback: str
    notice: str
    queue_place: int | None = Field(
        None, description="bij 'busy': hoeveel vragen op het lokale model wachten"
    )


class DocumentOut(BaseModel):
    """A document in the index."""

    doc_id: str
    title: str
    municipality: str
    doc_type: str
    date: str
    supersedes: list[str]
    superseded_by: list[str]
    format: str
    pages: int
    chunk_count: int
    ingested_at: str
    content_hash: str


class TokenRequest(BaseModel):
    """The staff login."""

    username: str = Field(max_length=200)
    password: str = Field(max_length=200)


class TokenOut(BaseModel):
    """A staff bearer token, valid for ``expires_in`` seconds (IVB_SESSION_TTL_S)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UploadOut(BaseModel):
    """What an upload did (`ingest.uploads.UploadResult`)."""

    ok: bool
    doc_id: str
    action: str | None
    chunks: int
    note: str
    ocr_pages: list[str]
    warnings: list[str]


class RemoveOut(BaseModel):
    """A removed document; ``note`` says where a file outside the uploads folder lies."""

    ok: bool
    doc_id: str
    note: str


class Problem(BaseModel):
    """An error: ``detail`` says what went wrong and what to do, in Dutch or English (the
    ivb_lang cookie, else Accept-Language, else Dutch; /ask's ``lang`` first)."""

    detail: str
    reasons: list[str] = Field(default_factory=list)
    duplicate_of: str = ""


class ExportTurnIn(BaseModel):
    """One turn of an exported conversation: the answer as /api/v1/ask returned it."""

    answer: AnswerOut
    asked_at: datetime | None = Field(None, description="when it was asked (default: now)")


class ExportRequest(BaseModel):
    """A conversation to export: each question with the answer the API gave."""

    turns: list[ExportTurnIn] = Field(min_length=1, max_length=200)
    format: Literal[EXPORT_FORMATS] = "md"  # type: ignore[valid-type]
    lang: Literal[LANGUAGES] | None = Field(  # type: ignore[valid-type]
        None,
        description=(
            "the language of the file's own texts (headings, labels, dates, refusal "
            "reasons): nl or en; empty: the ivb_lang cookie, else Accept-Language, else nl"
        ),
    )
