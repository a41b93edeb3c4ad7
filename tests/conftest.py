"""Shared fixtures: real settings in temp folders, the real embedding model, a seeded store."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest
from pydantic import SecretStr

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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_stores`` run once on the embedded SQLite store and once on
    PostgreSQL (the ``store_backend`` fixture), unless also marked ``sqlite_only``."""
    node = metafunc.definition
    if "store_backend" not in metafunc.fixturenames or not node.get_closest_marker("both_stores"):
        return
    backends = ["sqlite"] if node.get_closest_marker("sqlite_only") else ["sqlite", "postgres"]
    metafunc.parametrize("store_backend", backends, indirect=True)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL (Debian's binaries, initdb in a temp folder, loopback only),
    started once per session."""
    from tests.postgres_server import postgres_server

    with postgres_server() as server:
        yield server


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    """'sqlite' (the default) or 'postgres' for tests marked ``both_stores``."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def new_database_url(store_backend: str, request: pytest.FixtureRequest):
    """Makes the database URL of one more empty store: None on SQLite (the store folder
    is the store), a new schema on the session's PostgreSQL."""
    if store_backend != "postgres":
        return lambda: None
    return request.getfixturevalue("postgres").new_schema


@pytest.fixture
def settings(
    tmp_path: Path,
    base_settings: Settings,
    new_database_url,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """Settings with a fresh, empty store for one test. On PostgreSQL the store's URL is
    also in ``IVB_DATABASE_URL``, for the Settings() a test makes and its subprocesses."""
    update: dict[str, object] = {"store_dir": tmp_path / "store"}
    url = new_database_url()
    if url is not None:
        update["database_url"] = SecretStr(url)
        monkeypatch.setenv("IVB_DATABASE_URL", url)
    return base_settings.model_copy(update=update)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of corpus/ (the seed PDF and its manifest)."""
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest


@pytest.fixture(scope="session")
def seeded_settings(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, embedder):
    """A store holding corpus/ (the IVB briefing), ingested for real once per session
    (tests/servers.py ``seed_store``)."""
    from tests.servers import seed_store

    settings = base_settings.model_copy(update={"store_dir": tmp_path_factory.mktemp("seeded")})
    seed_store(settings, embedder)
    return settings


@pytest.fixture(scope="session")
def openai_server_url(base_settings: Settings):
    """llama-cpp-python's OpenAI-compatible server on loopback, serving the packaged GGUF
    as "ivb-test" with 4096 tokens of context (tests/openai_server.py), started once for
    the session: every test of the `openai` backend talks to the same real server, which
    need not load the model again for each module. Skipped where that server or the model
    file is missing."""
    from assistant.model_fetch import llm_model_path
    from assistant.model_files import ModelFetchError, ModelHashError
    from tests.openai_server import running_openai_server, server_extras_missing

    missing = server_extras_missing()
    if missing:
        pytest.skip(missing)
    try:
        gguf = llm_model_path(base_settings, fetch=False)
    except (OSError, ModelHashError, ModelFetchError) as exc:
        pytest.skip(f"the local GGUF is not available: {exc}")
    with running_openai_server(gguf, n_ctx=4096) as url:
        yield url


@pytest.fixture(scope="session")
def seeded_service(seeded_settings: Settings, embedder):
    from assistant.service import get_service

    service = get_service(seeded_settings, embedder)
    return service


@pytest.fixture
def catalog_sql(settings: Settings):
    """Run one SQL statement on the test store's catalog (the SQLite file, or the
    PostgreSQL schema), as another program would: to make a catalog look like one an
    older version wrote. Returns the fetched rows."""
    import sqlite3

    from assistant.store.postgres import database_url

    url = database_url(settings)

    def run(sql: str, params: tuple = ()) -> list[tuple]:
        if url is not None:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                cur = conn.execute(sql.replace("?", "%s"), params)
                return cur.fetchall() if cur.description else []
        with contextlib.closing(sqlite3.connect(settings.catalog_path)) as db, db:
            return db.execute(sql, params).fetchall()

    return run
