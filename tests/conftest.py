"""Shared fixtures: real settings in temp folders, the real embedding model, a seeded store."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

# No IVB_* setting of the developer's shell may leak into the tests.
for _key in [k for k in os.environ if k.startswith("IVB_")]:
    del os.environ[_key]

from assistant.settings import REPO_ROOT, Settings  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"
SEED_PDF = SHARED / "seed" / "toelichting-beeldvormende-vergadering-ivb-2024-2027.pdf"
STATUTES = SHARED / "corpora" / "nl-wetten-2017"
FAQ = SHARED / "corpora" / "rijksoverheid-faq" / "faq-dev.jsonl"
CORPUS = REPO_ROOT / "corpus"
SEED_ID = "ivb-toelichting-beeldvormende-vergadering"
# The seed's themes sentence runs from page 1 onto page 2; quoted whole it is cited "1–2"
# (one chunk for a sentence over a page break), its second half alone "2".
THEMES_PAGES = ("2", "1–2")


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with the real packaged models and a throw-away store."""
    return Settings(
        store_dir=tmp_path_factory.mktemp("store"),
        corpus_dir=CORPUS,
        llm_backend="extractive",
    )


@pytest.fixture(scope="session")
def embedder(base_settings: Settings):
    """The real embedding model (EmbeddingGemma-300m), loaded once for the session."""
    from assistant.embeddings import get_embedder

    return get_embedder(base_settings)


@pytest.fixture
def settings(tmp_path: Path, base_settings: Settings) -> Settings:
    """Settings with a fresh, empty store for one test."""
    return base_settings.model_copy(update={"store_dir": tmp_path / "store"})


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of corpus/ (the seed PDF and its manifest)."""
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest


@pytest.fixture(scope="session")
def seeded_settings(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, embedder):
    """A store holding corpus/ (the IVB briefing), ingested for real once per session."""
    from ingest.pipeline import ingest_paths

    settings = base_settings.model_copy(update={"store_dir": tmp_path_factory.mktemp("seeded")})
    report = ingest_paths([CORPUS], settings, embedder=embedder)
    assert report.ok, report.failed
    return settings


@pytest.fixture(scope="session")
def seeded_service(seeded_settings: Settings, embedder):
    from assistant.service import get_service

    service = get_service(seeded_settings, embedder)
    return service


@pytest.fixture
def catalog_sql(settings: Settings):
    """Run one SQL statement on the test store's catalog file, as another program would:
    to make a catalog look like one an older version wrote. Returns the fetched rows."""
    import sqlite3

    def run(sql: str, params: tuple = ()) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(settings.catalog_path)) as db, db:
            return db.execute(sql, params).fetchall()

    return run
