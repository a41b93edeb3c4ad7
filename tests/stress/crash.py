"""Crash safety: `kill -9` an ingest process at random points, then check the store.

After every kill the store must open cleanly with no document half-present in either
index (Chroma or the keyword index); a re-run must finish the job, and the final state
must equal a clean ingest of the same files. Once every document is in, each further
trial first changes three documents, so that kill lands in a replace (the old version
must still be served). Run the full trial (20 kills over 30 statutes) with
`python -m tests.stress.crash`; the test suite runs a short one.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from assistant.settings import REPO_ROOT, Settings
from assistant.store import Store

STATUTES = REPO_ROOT.parent / "shared" / "corpora" / "nl-wetten-2017"


def pick_statutes(n: int, min_bytes: int = 3000, max_bytes: int = 9000) -> list[Path]:
    """n small statutes, in index order (deterministic)."""
    rows = (STATUTES / "index.tsv").read_text(encoding="utf-8").splitlines()[1:]
    chosen = [r.split("\t")[0] for r in rows if min_bytes < int(r.split("\t")[3]) < max_bytes]
    return [STATUTES / f"{doc_id}.md" for doc_id in chosen[:n]]


def ingest_cmd(folder: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "assistant", "ingest", str(folder), "--store", str(store),
            "--json", "--prune"]  # fmt: skip


def _settings(store_dir: Path, database_url: str | None) -> Settings:
    return Settings(store_dir=store_dir, database_url=database_url)


def snapshot(store_dir: Path, database_url: str | None = None) -> dict[str, Any]:
    """What a reader can see: documents, their versions and chunk ids and texts."""
    store = Store(_settings(store_dir, database_url))
    state = {}
    for rec in store.documents():
        chunks = store.current_chunks(rec.doc_id)
        state[rec.doc_id] = (rec.doc_hash, [(c.id, c.text) for c in chunks])
    return state


def check_store(store_dir: Path, database_url: str | None = None) -> dict[str, Any]:
    """Open the store and verify that no document is half-present in either index."""
    store = Store(_settings(store_dir, database_url))
    report = store.check()
    problems = []
    if report["missing_in_chroma"]:
        problems.append(f"{len(report['missing_in_chroma'])} current chunks missing in Chroma")
    if report["extra_in_chroma"]:
        problems.append(f"{len(report['extra_in_chroma'])} unknown chunks in Chroma")
    for rec in store.documents():
        chunks = store.current_chunks(rec.doc_id)
        if len(chunks) != rec.chunk_count:
            problems.append(f"{rec.doc_id}: {len(chunks)} of {rec.chunk_count} chunks")
    fts = store.count_chunks(current_only=False)
    if report["keyword_rows"] != fts:
        problems.append(f"keyword index has {report['keyword_rows']} rows for {fts} chunks")
    store.close()
    return {"documents": report["documents"], "problems": problems}


def run_trials(
    kills: int,
    docs: int,
    workdir: Path,
    seed: int = 7,
    database_urls: tuple[str, str] | None = None,
    embedder: Any | None = None,
) -> dict[str, Any]:
    """Kill ingest runs at random points, re-run, and compare with a clean ingest.

    The clean reference store is first ingested by `ivb ingest` (its time aims the
    kills), and brought up to date after the edits in this process (``ingest_paths``,
    what `ivb ingest` runs): a process start (imports, model load) costs more than
    the small ingest of the edited documents.

    Args:
        kills: how many ingest processes to kill.
        docs: how many statutes the corpus has.
        workdir: an empty folder for the corpus and the stores.
        seed: random seed for the kill times.
        database_urls: PostgreSQL URLs of two empty stores (the clean one, the crashed
            one); None for SQLite stores in workdir.
        embedder: the embedding model for the clean store's last ingest (loaded when
            None).
    """
    from ingest.pipeline import ingest_paths

    clean_url, crashed_url = database_urls or (None, None)
    rng = random.Random(seed)
    corpus = workdir / "corpus"
    corpus.mkdir(parents=True)
    files = pick_statutes(docs)
    for f in files:
        shutil.copy(f, corpus / f.name)
    # Small embedding batches: documents are committed one after another through the
    # run (as with large documents), so the kills land between and inside many commits.
    base = {k: v for k, v in os.environ.items() if k != "IVB_DATABASE_URL"}
    base |= {"PYTHONUNBUFFERED": "1", "IVB_INGEST_BATCH_CHUNKS": "16"}
    clean_env = base | ({"IVB_DATABASE_URL": clean_url} if clean_url else {})
    env = base | ({"IVB_DATABASE_URL": crashed_url} if crashed_url else {})
    clean_store = workdir / "clean"
    t0 = time.perf_counter()
    clean = subprocess.run(ingest_cmd(corpus, clean_store), check=True, capture_output=True,
                           text=True, env=clean_env)  # fmt: skip
    clean_seconds = time.perf_counter() - t0
    expected = snapshot(clean_store, clean_url)

    # Starting the process (imports) takes a while before the ingest begins; kills are
    # aimed past that, into the part of the run that still has work to do (loading the
    # model, parsing, embedding, writing). The run's report says how long that part took.
    working = json.loads(clean.stdout)["seconds"]
    startup = clean_seconds - working
    per_doc = max(0.2, working / len(files))

    store = workdir / "crashed"
    trials = []
    edits = 0
    for _ in range(kills):
        opened = crashed_url is not None or (store / "catalog.sqlite3").exists()
        present = check_store(store, crashed_url)["documents"] if opened else 0
        pending = len(files) - present
        if pending == 0:
            # Everything is in: replace a few documents, so this run kills a replace.
            for f in rng.sample(files, 3):
                edits += 1
                with (corpus / f.name).open("a", encoding="utf-8") as fh:
                    fh.write(f"\n\nGewijzigd artikel {edits}.\n")
            pending = 3
        delay = rng.uniform(startup * 0.8, startup + per_doc * pending)
        proc = subprocess.Popen(ingest_cmd(corpus, store), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env)  # fmt: skip
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        opened = crashed_url is not None or (store / "catalog.sqlite3").exists()
        state = check_store(store, crashed_url) if opened else {"documents": 0, "problems": []}
        trials.append({"kill_after_s": round(delay, 2), "finished_before_kill": finished,
                       "documents_before": present, **state})  # fmt: skip
    final = subprocess.run(ingest_cmd(corpus, store), capture_output=True, text=True, env=env)
    result = json.loads(final.stdout)
    refresh = ingest_paths([corpus], _settings(clean_store, clean_url), embedder=embedder,
                           prune=True)  # fmt: skip
    assert refresh.ok, refresh.failed
    expected_after = snapshot(clean_store, clean_url)
    got = snapshot(store, crashed_url)
    return {
        "kills": kills,
        "documents": docs,
        "clean_ingest_s": round(clean_seconds, 1),
        "killed_mid_run": sum(not t["finished_before_kill"] for t in trials),
        "documents_after_each_kill": [t.get("documents") for t in trials],
        "trials_with_problems": [t for t in trials if t["problems"]],
        "final_run_failed": result["failed"],
        "final_equals_clean": got == expected_after,
        "documents_replaced": edits,
        "first_clean_docs": len(expected),
    }


def main() -> None:  # pragma: no cover - stress script
    import tempfile

    kills = int(os.environ.get("IVB_STRESS_KILLS", "20"))
    docs = int(os.environ.get("IVB_STRESS_DOCS", "30"))
    with tempfile.TemporaryDirectory() as tmp:
        result = run_trials(kills, docs, Path(tmp))
    print(json.dumps(result, indent=2))
    out = REPO_ROOT / "benchmarks" / "results" / "crash.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    main()
