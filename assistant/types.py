"""The typed objects that flow through the pipeline: Document → Page → Chunk → Passage → Answer."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from assistant.domain import Municipality

PAGE_RANGE = "–"  # between the first and last page label of a chunk that spans pages


class DocumentMeta(BaseModel):
    """What a corpus entry says about itself (manifest or sidecar), plus what we infer."""

    doc_id: str
    title: str
    municipality: Municipality = "onbekend"
    doc_type: str = "onbekend"
    date: str | None = None  # ISO date, YYYY-MM-DD, YYYY-MM or YYYY
    supersedes: list[str] = Field(default_factory=list)


class DocumentRecord(DocumentMeta):
    """A document as the catalog knows it: its metadata plus the version that is current.

    ``date`` is "" when the document has none (as stored); ``superseded_by`` lists the
    documents whose ``supersedes`` name this one.
    """

    date: str = ""
    doc_hash: str  # content hash of the current version (file bytes + reading settings)
    content_hash: str  # sha256 of the file bytes
    source: str
    format: str
    pages: int
    chunk_count: int
    ingested_at: str  # ISO timestamp, UTC
    superseded_by: list[str] = Field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


class Page(BaseModel):
    """One page (PDF) or one whole text file (docx/md/txt, index 0)."""

    index: int  # 0-based physical page index
    label: str  # printed page label (pypdf page labels), "1"-based by default
    text: str
    headings: list[str] = Field(default_factory=list)  # headings seen on this page, in order
    ocr: bool = False  # the text was read from the page image by OCR (ingest/ocr.py)
    # Why a page that shows something has no text (a scan OCR could not read): an
    # ingest.errors.Message, written in any language; None when the page was read.
    unread_reason: Any = None

    @property
    def unread(self) -> str:
        """Why the page stayed unread, in Dutch ("" when it was read)."""
        return str(self.unread_reason) if self.unread_reason is not None else ""


class Document(BaseModel):
    """A parsed source file with its metadata and pages."""

    meta: DocumentMeta
    source: str  # path of the source file as given
    format: str  # a format name from ingest.readers.registry.FORMATS ("pdf", "docx", ...)
    pages: list[Page]
    content_hash: str  # sha256 of the file bytes

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id


class Chunk(BaseModel):
    """A piece of one document, small enough to embed, that knows where it came from."""

    id: str
    doc_id: str
    source: str
    title: str
    text: str
    ordinal: int
    page_start: int  # 0-based physical page index
    page_end: int
    page_label_start: str
    page_label_end: str
    section: str = ""  # heading path, " > " separated
    municipality: str = "onbekend"
    doc_type: str = "onbekend"
    date: str = ""
    content_hash: str  # sha256 of the chunk text
    doc_hash: str  # content hash of the document version this chunk belongs to

    @property
    def page_label(self) -> str:
        """The printed page, or the range a chunk spans: "3", "2–3" (en dash, so that a
        label with a hyphen of its own, "A-1", stays readable)."""
        if self.page_label_start == self.page_label_end:
            return self.page_label_start
        return f"{self.page_label_start}{PAGE_RANGE}{self.page_label_end}"

    def to_metadata(self) -> dict[str, str | int]:
        """Flat metadata as Chroma stores it (no None, no lists)."""
        data = self.model_dump(exclude={"text", "id"})
        return {k: ("" if v is None else v) for k, v in data.items()}

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, metadata: dict[str, Any]) -> Chunk:
        return cls(id=chunk_id, text=text, **metadata)


class Passage(BaseModel):
    """A chunk as retrieved for one question, with its scores."""

    chunk: Chunk
    score: float  # fused relevance, higher is better (0..1 for dense similarity)
    dense_score: float | None = None  # cosine similarity to the query
    keyword_score: float | None = None  # BM25 score
    rank: int = 0
    superseded: bool = False
    context_before: str = ""  # neighbouring chunk text, for reading the passage whole
    context_after: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The public shape used by `ivb search --json` and `ivb ask --json`."""
        c = self.chunk
        return {
            "id": c.id,
            "doc_id": c.doc_id,
            "source": c.source,
            "title": c.title,
            "page": c.page_label,
            "page_index": c.page_start,
            "section": c.section,
            "municipality": c.municipality,
            "doc_type": c.doc_type,
            "score": round(self.score, 4),
            "dense_score": None if self.dense_score is None else round(self.dense_score, 4),
            "keyword_score": None if self.keyword_score is None else round(self.keyword_score, 4),
            "superseded": self.superseded,
            "text": c.text,
        }


class Citation(BaseModel):
    """One checked source of an answer: the passage and the exact spans quoted from it.

    One citation per chunk: ``quotes`` holds every sentence of the chunk that the answer
    rests on (each verbatim, in the order the answer first uses them); ``quote`` is the
    first of them, kept for readers of the older shape. A citation made with only a
    ``quote`` gets ``quotes == [quote]``.
    """

    n: int
    chunk_id: str
    doc_id: str
    title: str
    page: str  # page label
    page_index: int
    source: str
    section: str = ""
    municipality: str = "onbekend"
    quote: str  # verbatim span of the chunk text: the first of ``quotes``
    superseded: bool = False  # a newer document replaces this one
    quotes: list[str] = Field(default_factory=list)  # every verbatim span the answer uses

    @model_validator(mode="after")
    def _quotes_hold_the_quote(self) -> Citation:
        if not self.quotes:
            self.quotes = [self.quote] if self.quote else []
        return self


class AnswerSentence(BaseModel):
    """One sentence of a generated answer and what supports it."""

    text: str
    citations: list[int] = Field(default_factory=list)  # citation numbers
    supported: bool = True
    support: float = 0.0
    # Per citation number, the verbatim sentences of that citation's chunk this sentence
    # rests on; `answer.number_by_first_use` gathers them into each `Citation.quotes`.
    quotes: dict[int, list[str]] = Field(default_factory=dict)


class RefusalReason(StrEnum):
    """Why the assistant gives no answer. The values are what `ivb ask --json`, the audit
    log and the evaluation record; checks report them, `AnswerPipeline` decides."""

    INJECTION = "injection"  # guard.py: the question tries to override or extract instructions
    NO_RELEVANT_PASSAGE = "no_relevant_passage"  # answerability.py: best passage too dissimilar
    KEY_TERMS_MISSING = "key_terms_missing"  # answerability.py: top passages lack its words
    UNKNOWN_TERMS = "unknown_terms"  # answerability.py: words no indexed chunk holds
    UNSUPPORTED = "unsupported"  # no supported sentence holds the kind of answer asked for
    BUSY = "busy"  # the web app: too many questions wait for the local model


class FallbackReason(StrEnum):
    """Why the code quoted sentences itself instead of keeping the model's text."""

    EMPTY = "empty"  # nothing but citation markers
    MODEL_DECLINED = "model_declined"  # the model said the documents do not say it
    UNSUPPORTED = "unsupported"  # the citation check left no sentence that answers
    KEY_FACT_DROPPED = "key_fact_dropped"  # a number, date, name or quoted term of the
    # chosen sentences is missing from the checked phrasing
    WRONG_LANGUAGE = "wrong_language"  # not written in the question's language
    MODEL_FAILED = "model_failed"  # the model's process died or stalled mid-answer
    MODEL_UNAVAILABLE = "model_unavailable"  # the model was not running (restart, no start)


class Answer(BaseModel):
    """What the assistant says, with its checked citations and how long each stage took."""

    question: str
    standalone_question: str = ""
    text: str
    refused: bool = False
    refusal_reason: RefusalReason | Literal[""] = ""
    language: str = "nl"
    audience: str = "raad"
    citations: list[Citation] = Field(default_factory=list)
    sentences: list[AnswerSentence] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    backend: str = ""
    model: str = ""
    fallback: FallbackReason | Literal[""] = ""  # why the code quoted sentences itself
    notice: str = ""  # a short line for the reader, e.g. that the model failed mid-answer

    def as_dict(self) -> dict[str, Any]:
        """The public shape of `ivb ask --json`."""
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "refused": self.refused,
            "refusal_reason": str(self.refusal_reason),
            "language": self.language,
            "audience": self.audience,
            "citations": [c.model_dump() for c in self.citations],
            "unsupported_sentences": [s.text for s in self.sentences if not s.supported],
            "passages": [p.as_dict() for p in self.passages],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "backend": self.backend,
            "model": self.model,
            "fallback": str(self.fallback),
            "notice": self.notice,
        }

    def public_dict(self) -> dict[str, Any]:
        """`as_dict` for people who are not on this server (the web API and the page's
        named API): each citation's and passage's ``source`` is only the file name, so
        that no answer tells where the server keeps its files."""
        data = self.as_dict()
        for item in (*data["citations"], *data["passages"]):
            item["source"] = file_name(item["source"])
        return data


def file_name(source: str) -> str:
    """The file name of a source path, written with / or \\ ('' stays '')."""
    return source.replace("\\", "/").rsplit("/", 1)[-1]
