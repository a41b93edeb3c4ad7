"""The PostgreSQL back end on a real PostgreSQL (Debian's binaries, started by the
``postgres`` fixture): keyword ranking equal to SQLite's FTS5, the ingest lock across
processes, and the audit log, feedback and staff logins shared by two app instances."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from assistant.audit import export_audit, prune_audit, read_audit
from assistant.auth import PostgresLoginState, StaffAuth, hash_password
from assistant.feedback import latest_feedback, record_feedback
from assistant.settings import REPO_ROOT
from assistant.store import Filters, StoreLockedError, pg_keywords
from assistant.store.catalog import SqliteCatalog
from assistant.store.keywords import SqliteKeywordIndex
from assistant.store.pg_catalog import PostgresCatalog
from assistant.store.pg_keywords import PostgresKeywordIndex
from assistant.store.postgres import PostgresDatabase
from assistant.store.sqlite import SqliteDatabase
from tests.conftest import STATUTES

LAWS = ["BWBR0001941", "BWBR0005416", "BWBR0013798", "BWBR0031788", "BWBR0027466"]


@pytest.fixture(scope="module")
def both_indexes(postgres, base_settings, tmp_path_factory):
    """The same statute chunks in a SQLite catalog and in a PostgreSQL one (no vectors:
    only the keyword side is compared), one document replaced to leave stale rows."""
    from benchmarks.common import documents_with_chunks

    db = SqliteDatabase(tmp_path_factory.mktemp("sqlite") / "catalog.sqlite3")
    lite = SqliteCatalog(db, db.path + ".lock"), SqliteKeywordIndex(db, "dutch_porter", False)
    pg_db = PostgresDatabase(postgres.new_schema())
    pg = PostgresCatalog(pg_db), PostgresKeywordIndex(pg_db, "dutch_porter", False)
    docs = list(documents_with_chunks([STATUTES / f"{d}.md" for d in LAWS], base_settings))
    for catalog, keywords in (lite, pg):
        for doc, chunks in docs:
            with catalog.transaction():
                keywords.add(catalog.add_chunks(chunks, [None] * len(chunks)))
            catalog.commit(doc, chunks[0].doc_hash, len(chunks))
        # A newer version of the first statute: its old rows stay until collected.
        doc, chunks = docs[0]
        newer = [c.model_copy(update={"id": c.id + "-v2", "doc_hash": "v2"}) for c in chunks]
        with catalog.transaction():
            keywords.add(catalog.add_chunks(newer, [None] * len(newer)))
        catalog.commit(doc, "v2", len(newer))
    return lite, pg


def _questions() -> list[str]:
    out = []
    for name in ("wetten-burgemeester.jsonl", "wetten-artikelen.jsonl"):
        for line in (REPO_ROOT / "eval" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return out


def test_keyword_ranking_equals_sqlite_fts5_bm25(both_indexes):
    (lite_catalog, lite), (pg_catalog, pg) = both_indexes
    assert pg.count() == lite.count() == lite_catalog.count_chunks(current_only=False)
    assert pg_catalog.count_chunks() == lite_catalog.count_chunks()
    questions = _questions()
    assert len(questions) >= 30
    for q in [*questions, "xylofoon", "", "artikel 13b"]:
        a, b = lite.search(q, 10), pg.search(q, 10)
        assert [c.id for c, _ in a] == [c.id for c, _ in b], q
        for (_, sa), (_, sb) in zip(a, b, strict=True):
            assert sb == pytest.approx(sa, rel=1e-9), q
        assert lite.count_matching(q) == pg.count_matching(q), q
        terms = lite.terms(q)
        assert lite.document_frequency(terms) == pg.document_frequency(terms)
    # Filters and the current version obey the same rule on both.
    q = questions[0]
    doc_type = lite.search(q, 1)[0][0].doc_type
    for only in (Filters(doc_type=doc_type), Filters(doc_type="geen-type")):
        a, b = lite.search(q, 5, only), pg.search(q, 5, only)
        assert [c.id for c, _ in a] == [c.id for c, _ in b]
        assert bool(a) == (only.doc_type == doc_type)
    hits = pg.search("opiumwet verdovende middelen", 50)
    assert any(c.id.endswith("-v2") for c, _ in hits)  # the replaced statute is found ...
    assert not [c.id for c, _ in hits if c.doc_id == LAWS[0] and not c.id.endswith("-v2")]


def test_terms_at_the_idf_floor_are_added_to_the_best_rows_only(both_indexes, monkeypatch):
    """Terms in half of the rows or more ("artikel" here) are not summed over all their
    postings, yet the list equals SQLite's; a query the pruned plan cannot decide (the
    other terms match too few rows) is summed in full and still equals it."""
    (_, lite), (_, pg) = both_indexes
    conn = pg.db.connection()
    plans: list[str] = []
    execute = conn.execute

    def spy(sql, params=None, *args, **kwargs):
        # A ranking pass over every term reads the floor term's postings too.
        ranks = sql == pg_keywords._RANK
        plans.append("other" if not ranks else "all" if "artikel" in params["terms"] else
                     "pruned")  # fmt: skip
        return execute(sql, params, *args, **kwargs)

    monkeypatch.setattr(conn, "execute", spy)
    (df,) = pg.document_frequency(["artikel"]).values()
    assert df > pg.count() / 2  # at FTS5's idf floor
    mixed = [q for q in _questions() if "artikel" in pg.terms(q)]
    assert len(mixed) >= 10
    for q in [*mixed, "artikel 13b", "artikel"]:
        plans.clear()
        a, b = lite.search(q, 10), pg.search(q, 10)
        assert [c.id for c, _ in a] == [c.id for c, _ in b], q
        for (_, sa), (_, sb) in zip(a, b, strict=True):
            assert sb == pytest.approx(sa, rel=1e-9), q
        expect = ["all"] if q == "artikel" else ["pruned"]
        if q != "artikel" and "all" in plans:
            expect = ["pruned", "all"]  # too few rows: summed in full
        assert [p for p in plans if p != "other"] == expect, q
    plans.clear()
    for q in mixed:
        pg.search(q, 10)
    assert plans.count("pruned") == len(mixed) and plans.count("all") < len(mixed) / 2


def test_one_ingest_at_a_time_and_a_killed_holder_frees_the_lock(postgres):
    url = postgres.new_schema()
    catalog = PostgresCatalog(PostgresDatabase(url))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from assistant.store.pg_catalog import PostgresCatalog\n"
         "from assistant.store.postgres import PostgresDatabase\n"
         "with PostgresCatalog(PostgresDatabase(sys.argv[1])).writer():\n"
         "    print('locked', flush=True); time.sleep(600)\n", url],
        stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError, match="een andere opname loopt al"), catalog.writer():
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        deadline = time.monotonic() + 30  # the server notices the dead client
        while True:
            try:
                with catalog.writer():
                    break
            except StoreLockedError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        holder.kill()
        holder.wait()
    other = PostgresCatalog(PostgresDatabase(postgres.new_schema()))
    with catalog.writer(), other.writer():  # another store's lock is another lock
        pass


def test_audit_feedback_and_logins_are_shared(postgres, settings, tmp_path):
    url = postgres.new_schema()
    one = settings.model_copy(
        update={
            "database_url": SecretStr(url),
            "staff_username": "beheer",
            "staff_password_hash": SecretStr(hash_password("geheim-wachtwoord")),
            "login_max_failures": 2,
        }
    )
    # Two app instances: each its own connections and login state, one database.
    a = StaffAuth(one, state=PostgresLoginState(PostgresDatabase(url)))
    b = StaffAuth(one, state=PostgresLoginState(PostgresDatabase(url)))
    token = a.login("beheer", "geheim-wachtwoord", "10.0.0.1").token
    assert token and b.validate(token) == "beheer"
    b.logout(token)
    assert a.validate(token) is None
    assert not a.login("beheer", "fout", "10.0.0.9").ok
    assert not b.login("beheer", "fout", "10.0.0.9").ok
    blocked = a.login("beheer", "geheim-wachtwoord", "10.0.0.9")
    assert not blocked.ok and "Te veel" in blocked.message  # failures counted across both

    now = datetime.now(UTC)
    from assistant.audit import database_log

    log = database_log(one, "audit")
    assert log is not None
    log.append({"id": "old", "time": (now - timedelta(days=400)).isoformat()})
    log.append({"id": "new", "time": now.isoformat(), "question": "Wat is het IVB?"})
    assert [r["id"] for r in read_audit(one)] == ["old", "new"]
    assert prune_audit(one, now=now) == 1 and [r["id"] for r in read_audit(one)] == ["new"]
    exported = export_audit(one, tmp_path)
    assert [json.loads(x)["id"] for x in exported.read_text().splitlines()] == ["new"]
    assert not one.audit_path.exists()  # nothing went to the store folder

    common = {"question": "Wat is het IVB?", "answer": "Een plan [1].", "citations": []}
    record_feedback(one, **common, rating="up", comment="Goed", turn_id="t1")
    record_feedback(one, **common, rating="down", turn_id="t1")
    [latest] = latest_feedback(one)
    assert latest["rating"] == "down" and latest["comment"] == "Goed"
    assert not one.feedback_path.exists()
