"""compose.yaml's services, started here without Docker, as stateless replicas.

One cluster for the module (tests/compose_services.py): PostgreSQL from Debian's packages
with the image's user and database, `chroma run` on loopback, the LLM server, two `ivb
serve` replicas and nginx with deploy/nginx.conf, each with the command and environment
compose.yaml and the Dockerfile declare. The LLM server is the OpenAI-compatible stand-in
(tests/fake_model_server.py, given the same arguments): loading the real model costs
time the suite need not spend, and the replicas answer with the extractive backend.

Real parts: PostgreSQL, Chroma, the embedding model, the app, nginx, real PDFs. The
tests run in file order: the last one kills replica A.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest

from assistant.auth import hash_password
from tests.conftest import SHARED

pytestmark = [pytest.mark.server, pytest.mark.slow]

STAFF_USER = "beheerder"
STAFF_PASSWORD = "correct paard batterij nietje"
REAL_PDFS = SHARED / "corpora" / "real-pdfs"
SMALL_PDF = REAL_PDFS / "acict-advies-abacus-2025.pdf"  # 7 pages
# 39 pages: an ingest long enough to be killed in the middle, and re-run in full (the
# 51-page Veritas report doubles the embedding work and proves nothing more).
LARGE_PDF = REAL_PDFS / "vws-wcag-onderzoek-open-minvws-2025.pdf"
ABACUS_QUESTION = "Wat adviseert het Adviescollege ICT-toetsing over Abacus?"
IVB_QUESTION = "Welke thema's hebben de drie gemeenten samen geprioriteerd?"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, base_settings):
    from tests.compose_services import start_cluster
    from tests.postgres_server import postgres_bin

    assert postgres_bin() is not None, "PostgreSQL is not installed (scripts/test.sh installs it)"
    assert shutil.which("nginx") or Path("/usr/sbin/nginx").exists(), "nginx is not installed"
    env = {
        "IVB_DB_PASSWORD": "test-wachtwoord",
        "IVB_STAFF_USERNAME": STAFF_USER,
        "IVB_STAFF_PASSWORD_HASH": hash_password(STAFF_PASSWORD),
    }
    workdir = tmp_path_factory.mktemp("cluster")
    with contextlib.ExitStack() as stack:
        yield start_cluster(
            stack, workdir, env=env, model_cache=base_settings.model_cache_dir, fetch_models=True
        )


def ask(url: str, question: str) -> dict:
    response = httpx.post(
        url + "api/v1/ask", json={"question": question, "backend": "extractive"}, timeout=300
    )
    assert response.status_code == 200, response.text
    return response.json()


def token(url: str) -> str:
    response = httpx.post(
        url + "api/v1/staff/token",
        json={"username": STAFF_USER, "password": STAFF_PASSWORD},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def upload(url: str, bearer: str, pdf: Path, timeout: float = 900) -> httpx.Response:
    with pdf.open("rb") as f:
        return httpx.post(
            url + "api/v1/staff/documents",
            headers={"Authorization": f"Bearer {bearer}"},
            files={"file": (pdf.name, f, "application/pdf")},
            timeout=timeout,
        )


def metric_families(text: str) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    return {family.name: family for family in text_string_to_metric_families(text)}


def cited(answer: dict) -> list[tuple]:
    return [(c["doc_id"], c["page"], c["quote"]) for c in answer["citations"]]


def test_the_compose_services_serve_through_the_proxy(cluster):
    proxy = cluster.proxy_url
    assert httpx.get(proxy + "healthz").json() == {"status": "ok"}
    ready = httpx.get(proxy + "readyz", timeout=30).json()
    assert ready["status"] == "ready", ready
    # The replica reached the LLM server compose names, and found the corpus in the store.
    assert cluster.localiser.value("http://llm:8080/v1") in ready["checks"]["llm"]["detail"]
    assert httpx.get(proxy + "metrics").status_code == 404  # scraped per replica
    answer = ask(proxy, IVB_QUESTION)
    assert not answer["refused"] and answer["citations"]
    answered = 0.0
    for app in cluster.apps:
        families = metric_families(httpx.get(app.url + "metrics").text)
        assert {"ivb_questions", "ivb_stage_seconds", "ivb_model_queue_length"} <= set(families)
        answered += sum(s.value for s in families["ivb_questions"].samples
                        if s.name == "ivb_questions_total")  # fmt: skip
        # Stateless: the catalog and keyword index are in PostgreSQL, not in a file here.
        store = Path(app.env["IVB_STORE_DIR"])
        assert not (store / "catalog.sqlite3").exists()
        assert not (store / "chroma").exists()
    assert answered == 1  # each replica counts only its own; one asked


def test_a_document_ingested_on_a_is_answered_alike_by_b(cluster):
    a, b = (app.url for app in cluster.apps)
    response = upload(a, token(a), SMALL_PDF)
    assert response.status_code == 201, response.text
    doc_id = response.json()["doc_id"]
    listed = {d["doc_id"] for d in httpx.get(b + "api/v1/documents", timeout=60).json()}
    assert doc_id in listed
    on_a, on_b = ask(a, ABACUS_QUESTION), ask(b, ABACUS_QUESTION)
    assert not on_b["refused"], on_b
    assert doc_id in {c["doc_id"] for c in on_b["citations"]}
    assert on_b["answer"] == on_a["answer"]
    assert cited(on_b) == cited(on_a)


def test_a_staff_login_on_a_is_valid_on_b(cluster):
    a, b = (app.url for app in cluster.apps)
    bearer = token(a)
    headers = {"Authorization": f"Bearer {bearer}"}
    # B knows the session A made: logging out there works ...
    assert httpx.delete(b + "api/v1/staff/token", headers=headers).status_code == 204
    # ... and ends it on A too.
    assert httpx.delete(a + "api/v1/staff/token", headers=headers).status_code == 401
    wrong = httpx.post(
        b + "api/v1/staff/token", json={"username": STAFF_USER, "password": "fout"}, timeout=60
    )
    assert wrong.status_code == 401


def _ingest_lock_held(database_url: str) -> bool:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()
    return bool(row and row[0])


def test_sigkill_of_a_mid_ingest_leaves_a_consistent_store(cluster):
    from assistant.store import Store

    app_a, app_b = cluster.apps
    a, b = app_a.url, app_b.url
    bearer = token(a)
    before = ask(b, IVB_QUESTION)
    store = Store(cluster.settings(1))
    documents_before = {d.doc_id for d in store.documents()}
    outcome: dict = {}

    def run_upload() -> None:
        try:
            outcome["response"] = upload(a, bearer, LARGE_PDF)
        except httpx.HTTPError as exc:  # the server died under it
            outcome["error"] = exc

    uploader = threading.Thread(target=run_upload)
    uploader.start()
    deadline = time.monotonic() + 300
    while not _ingest_lock_held(cluster.database_url):
        assert time.monotonic() < deadline, "the ingest never took its lock"
        assert uploader.is_alive(), outcome
        time.sleep(0.05)
    time.sleep(2.0)  # well into parsing and embedding the 39 pages
    cluster.kill(app_a)
    uploader.join(60)
    assert "error" in outcome, "the upload finished before the kill; use a larger file"

    # PostgreSQL released A's lock with its connection; B keeps answering, as before.
    assert not _ingest_lock_held(cluster.database_url)
    after = ask(b, IVB_QUESTION)
    assert after["answer"] == before["answer"] and cited(after) == cited(before)
    state = store.check()
    assert state["consistent"], state
    # Nothing half-written became current.
    assert {d.doc_id for d in store.documents()} == documents_before

    # A re-run (through B) completes, and the store is whole.
    response = upload(b, token(b), LARGE_PDF)
    assert response.status_code == 201, response.text
    state = store.check()
    assert state["consistent"] and state["pending"] == 0, state
    record = store.document(response.json()["doc_id"])
    assert record is not None and record.chunk_count == len(store.current_chunks(record.doc_id))
    # And A comes back.
    cluster.start(app_a)
    assert httpx.get(a + "readyz", timeout=30).status_code == 200
