"""Load: many chat sessions at once through the real app, over gradio_client on loopback.

Each session is its own `gradio_client.Client` (its own session hash) and asks questions
from a list in a loop through the named `ask` endpoint until the run's duration ends or
it has asked its share. Every request is timed, its answer checked for shape (keys,
citations with quotes, refusals without citations), and its status followed while it
waits, so the run can say how far back in Gradio's queue requests stood and how long
they waited there, and, for the local model, which place in the model's own line
(first come first served with the web chat) the app reported as progress.

Run the full trials with

    python -m tests.stress.load                                  # 20 sessions, 120 s, extractive
    python -m tests.stress.load --backend local --sessions 4 --max-requests 4

They start the app themselves (a seeded temporary store, `web.layout.build_app` + `ui.launch` on
a free loopback port, in a child process so that clients and server do not share one
interpreter) unless `--url` names a running one. The test suite runs a short version.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from benchmarks.common import RESULTS_DIR, machine_info, percentile, render_table

LOOPBACK = ("127.0.0.1", "localhost", "::1")
POLL_S = 0.05  # how often a waiting request's status is read
CONNECT_TIMEOUT_S = 120.0  # the warm-up client's HTTP calls (httpx's default is 5 s)
REQUIRED_KEYS = ("answer", "refused", "citations", "passages", "timings")
STARTED_STATES = ("PROCESSING", "ITERATING", "PROGRESS", "FINISHED")
# How the app's progress names a place in the local model's line (web.render.LOCAL_QUEUE_TEXT);
# the progress unit's index is that place, 1 being next.
LOCAL_PLACE_DESC = "Wachtrij lokaal model"


@dataclass(frozen=True)
class Turn:
    """One question a session asks.

    Args:
        question: the question.
        audience: "raad" or "inwoner".
        municipality: "alle" or one of the three municipalities.
        follow_up: send the session's previous question and answer as history_json.
    """

    question: str
    audience: str = "raad"
    municipality: str = "alle"
    follow_up: bool = False


DEFAULT_TURNS: tuple[Turn, ...] = (
    Turn("Welke thema's hebben de drie gemeenten samen geprioriteerd?"),
    Turn("En van Dronten?", audience="inwoner", municipality="Dronten", follow_up=True),
    Turn("Wie geeft de toelichting op de politiecijfers?", audience="inwoner"),
    Turn("Hoe hoog is de Mount Everest?"),  # not in the documents: a refusal
)


@dataclass
class RequestRecord:
    """What one request did, with times in seconds since the run started."""

    session: int
    n: int
    question: str
    submitted_s: float
    started_s: float | None = None  # first status seen at or past PROCESSING
    finished_s: float | None = None
    latency_s: float | None = None  # submit to result, as the user waits
    queue_wait_s: float | None = None  # submit to PROCESSING (at POLL_S resolution)
    max_rank: int | None = None  # most requests seen ahead of it in Gradio's queue
    max_queue_size: int | None = None
    max_local_place: int | None = None  # furthest back in the local model's line (1: next)
    refused: bool | None = None
    error: str | None = None
    problems: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # the answer's own timings

    @property
    def answered(self) -> bool:
        return self.error is None and not self.problems


def check_answer(result: Any, backend: str) -> list[str]:
    """What is wrong with the shape of one `ask` result (empty when it is well-formed).

    Args:
        result: what the endpoint returned.
        backend: the backend asked for (the answer must name it).
    """
    if not isinstance(result, dict):
        return [f"not a dict but {type(result).__name__}"]
    problems = [f"no key {key!r}" for key in REQUIRED_KEYS if key not in result]
    if problems:
        return problems
    if not isinstance(result["answer"], str) or not result["answer"].strip():
        problems.append("empty answer text")
    if not isinstance(result["refused"], bool):
        problems.append("refused is not a bool")
    if not isinstance(result["timings"], dict) or "total" not in result["timings"]:
        problems.append("timings without a total")
    # "<backend>+extractive": the model ran, and the code quoted the sentences instead.
    if result.get("backend") not in (backend, f"{backend}+extractive"):
        problems.append(f"answered by backend {result.get('backend')!r}, not {backend!r}")
    citations, passages = result["citations"], result["passages"]
    if not isinstance(citations, list) or not isinstance(passages, list):
        return [*problems, "citations or passages is not a list"]
    texts = {p.get("id"): p.get("text", "") for p in passages if isinstance(p, dict)}
    if result["refused"] and citations:
        problems.append(f"a refusal with {len(citations)} citations")
    if not result["refused"] and not citations:
        problems.append("an answer without citations")
    for c in citations:
        quote = (c or {}).get("quote") if isinstance(c, dict) else None
        if not quote or not str(quote).strip():
            problems.append(f"citation {c.get('n') if isinstance(c, dict) else c} has no quote")
        elif c.get("chunk_id") in texts and quote not in texts[c["chunk_id"]]:
            problems.append(f"citation {c.get('n')}: quote not in its passage")
    return problems


def _require_loopback(url: str) -> None:
    host = urlparse(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"load runs only against loopback, not {url!r}")


def local_place(progress_data: Sequence[Any] | None) -> int | None:
    """The place in the local model's line that a status's progress reports, if any.

    Args:
        progress_data: gradio_client's StatusUpdate.progress_data (ProgressUnits).
    """
    for unit in progress_data or ():
        desc = getattr(unit, "desc", None) or ""
        index = getattr(unit, "index", None)
        if desc.startswith(LOCAL_PLACE_DESC) and isinstance(index, int):
            return index
    return None


def _ask(
    client: Any,
    turn: Turn,
    backend: str,
    history: list[tuple[str, str]],
    record: RequestRecord,
    t0: float,
    timeout_s: float,
) -> None:
    """Submit one question, follow its status while it waits, and fill in the record."""
    history_json = json.dumps([list(h) for h in history[-3:]]) if turn.follow_up else "[]"
    start = time.monotonic()
    job = client.submit(
        turn.question, turn.audience, turn.municipality, backend, history_json, api_name="/ask"
    )
    while not job.done():
        status = job.status()
        code = status.code.name
        if code == "IN_QUEUE" and status.rank is not None:
            record.max_rank = max(record.max_rank or 0, status.rank)
            record.max_queue_size = max(record.max_queue_size or 0, status.queue_size or 0)
        place = local_place(status.progress_data)
        if place is not None:
            record.max_local_place = max(record.max_local_place or 0, place)
        if record.started_s is None and code in STARTED_STATES:
            record.started_s = time.monotonic() - t0
            record.queue_wait_s = time.monotonic() - start
        if time.monotonic() - start > timeout_s:
            job.cancel()
            raise TimeoutError(f"no answer within {timeout_s:.0f} s")
        time.sleep(POLL_S)
    result = job.result(timeout=1)
    end = time.monotonic()
    record.latency_s = end - start
    record.finished_s = end - t0
    if record.started_s is None:  # finished between two polls
        record.started_s, record.queue_wait_s = record.submitted_s, 0.0
    record.problems = check_answer(result, backend)
    if isinstance(result, dict):
        record.refused = result.get("refused")
        timings = result.get("timings")
        record.timings = timings if isinstance(timings, dict) else {}
        if not record.problems:
            history.append((turn.question, result["answer"]))


def _session(
    url: str,
    session: int,
    turns: Sequence[Turn],
    backend: str,
    t0: float,
    deadline: float,
    max_requests: int,
    timeout_s: float,
) -> list[RequestRecord]:
    """One chat session: its own client, asking in a loop until the deadline or its share."""
    from gradio_client import Client

    records: list[RequestRecord] = []
    history: list[tuple[str, str]] = []
    try:
        client = Client(
            url,
            verbose=False,
            download_files=False,
            analytics_enabled=False,
            # A session's own set-up (config, API info) waits as long as a question may:
            # httpx's 5 s default failed sessions before they asked, on a machine at load 40.
            httpx_kwargs={"timeout": timeout_s},
        )
    except Exception as exc:  # the session could not even connect: one failed request
        failed = RequestRecord(session, 0, "(connect)", time.monotonic() - t0)
        failed.error = f"{type(exc).__name__}: {exc}"
        return [failed]
    try:
        for n in range(max_requests):
            if time.monotonic() >= deadline:
                break
            turn = turns[(session + n) % len(turns)]
            record = RequestRecord(session, n, turn.question, time.monotonic() - t0)
            records.append(record)
            try:
                _ask(client, turn, backend, history, record, t0, timeout_s)
            except Exception as exc:
                record.error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        client.close()
    return records


def run_load(
    url: str | Sequence[str],
    sessions: int,
    duration_s: float,
    backend: str,
    questions: Sequence[Turn] = DEFAULT_TURNS,
    *,
    max_requests: int = 1000,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """Run chat sessions against a running app at once and summarise what they saw.

    Args:
        url: the app, on loopback (http://127.0.0.1:PORT/); or several replicas of it,
            session i asking replica i modulo their number.
        sessions: how many sessions ask at the same time, each with its own client.
        duration_s: no session starts a question after this many seconds.
        backend: the answer backend every question asks for.
        questions: the turns a session cycles through (session i starts at turn i).
        max_requests: the most questions one session asks.
        timeout_s: a request that has no answer after this long counts as an error.

    Returns:
        The summary (see `summarise`) with every request under "requests".
    """
    urls = [url] if isinstance(url, str) else list(url)
    for each in urls:
        _require_loopback(each)
    if sessions < 1 or not questions or not urls:
        raise ValueError("need at least one session, one question and one URL")
    t0 = time.monotonic()
    deadline = t0 + duration_s
    with ThreadPoolExecutor(max_workers=sessions, thread_name_prefix="session") as pool:
        futures = [
            pool.submit(
                _session,
                urls[s % len(urls)],
                s,
                questions,
                backend,
                t0,
                deadline,
                max_requests,
                timeout_s,
            )
            for s in range(sessions)
        ]
        records = [r for f in futures for r in f.result()]
    elapsed = time.monotonic() - t0
    return summarise(
        records,
        backend=backend,
        sessions=sessions,
        duration_s=duration_s,
        elapsed_s=elapsed,
        max_requests=max_requests,
    )


def _stats(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None, "mean": None}
    return {
        "p50": round(percentile(values, 50), 3),
        "p95": round(percentile(values, 95), 3),
        "max": round(max(values), 3),
        "mean": round(sum(values) / len(values), 3),
    }


def max_concurrent(records: Sequence[RequestRecord]) -> int:
    """The most requests that were being processed (past the queue) at one moment."""
    edges = []
    for r in records:
        if r.started_s is not None and r.finished_s is not None:
            edges += [(r.started_s, 1), (r.finished_s, -1)]
    running = most = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
        running += step
        most = max(most, running)
    return most


def summarise(
    records: Sequence[RequestRecord],
    *,
    backend: str,
    sessions: int,
    duration_s: float,
    elapsed_s: float,
    max_requests: int,
) -> dict[str, Any]:
    """Counts, latency percentiles, throughput and the queue's behaviour of one run."""
    done = [r for r in records if r.latency_s is not None]
    answered = [r for r in records if r.answered]
    waits = [r.queue_wait_s for r in done if r.queue_wait_s is not None]
    per_session = {s: sum(1 for r in answered if r.session == s) for s in range(sessions)}
    errors = [r for r in records if r.error]
    malformed = [r for r in records if r.problems]
    return {
        "backend": backend,
        "sessions": sessions,
        "duration_s": duration_s,
        "max_requests_per_session": max_requests,
        "elapsed_s": round(elapsed_s, 1),
        "requests": len(records),
        "answered": len(answered),
        "refused": sum(1 for r in answered if r.refused),
        "errors": len(errors),
        "error_samples": sorted({r.error for r in errors if r.error})[:5],
        "malformed": len(malformed),
        "malformed_samples": [
            {"question": r.question, "problems": r.problems} for r in malformed[:5]
        ],
        "sessions_without_answer": sum(1 for n in per_session.values() if n == 0),
        "answers_per_session": list(per_session.values()),
        "latency_s": _stats([r.latency_s for r in done if r.latency_s is not None]),
        "throughput_rps": round(len(done) / elapsed_s, 3) if elapsed_s > 0 else None,
        "queue": {
            "max_rank": max((r.max_rank or 0 for r in records), default=0),
            "max_queue_size": max((r.max_queue_size or 0 for r in records), default=0),
            # Gradio's rank counts the requests ahead in the same queue: 0 is next in line.
            "queued_behind_others": sum(1 for r in records if (r.max_rank or 0) > 0),
            "wait_s": _stats(waits),
            "waited_over_1s": sum(1 for w in waits if w > 1.0),
            # As the clients saw it: a hand-over can overlap by one poll.
            "max_processing_at_once": max_concurrent(records),
            # The local model's own line (assistant.model_line), reported as progress: 1 is next.
            "max_local_place": max((r.max_local_place or 0 for r in records), default=0),
            "told_local_place": sum(1 for r in records if (r.max_local_place or 0) > 0),
        },
        # The answers' own stage timings. The time a local request waited in the model's
        # line comes before them (it is part of latency_s, not of queue_wait_s).
        "answer_timings_s": {
            key: _stats([r.timings[key] for r in answered if key in r.timings])
            for key in sorted({k for r in answered for k in r.timings})
        },
        "requests_detail": [asdict(r) for r in records],
    }


# --------------------------------------------------------------------------- the app


def serve(backend: str, port: int, store_dir: Path, chat_concurrency: int | None) -> None:
    """Seed a store from corpus/ and serve the app on 127.0.0.1:port until killed."""
    import ui
    from assistant.settings import REPO_ROOT, Settings
    from ingest.pipeline import ingest_paths
    from web.layout import build_app

    update: dict[str, Any] = {}
    if chat_concurrency is not None:
        update["chat_concurrency"] = chat_concurrency
    settings = Settings(
        store_dir=store_dir,
        corpus_dir=REPO_ROOT / "corpus",
        llm_backend=backend,
        host="127.0.0.1",
        port=port,
        **update,
    )
    report = ingest_paths([settings.corpus_dir], settings)
    if not report.ok:
        raise SystemExit(f"seeding the store failed: {report.failed}")
    demo = build_app(settings)
    if backend == "local":  # load the model now, not inside the first timed request
        demo.ivb_app.chat.pipeline.chat_model("local").load()
    ui.launch(demo, settings, quiet=True)


@contextlib.contextmanager
def app_process(
    backend: str, workdir: Path, chat_concurrency: int | None = None, timeout_s: float = 600
) -> Iterator[str]:
    """The app in a child process on a free loopback port; yields its URL."""
    from tests.servers import free_port, server_process

    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "tests.stress.load",
        "--serve",
        "--backend",
        backend,
        "--port",
        str(port),
        "--store",
        str(workdir / "store"),
    ]
    if chat_concurrency is not None:
        cmd += ["--chat-concurrency", str(chat_concurrency)]
    root = Path(__file__).resolve().parents[2]
    url = f"http://127.0.0.1:{port}/"
    with server_process(cmd, workdir / "app.log", url + "config", timeout_s, 30, cwd=root):
        yield url


def warm_up(url: str, backend: str) -> float:
    """One untimed question, so that lazy loading is not counted; returns its seconds."""
    from gradio_client import Client

    client = Client(
        url,
        verbose=False,
        download_files=False,
        analytics_enabled=False,
        httpx_kwargs={"timeout": CONNECT_TIMEOUT_S},
    )
    try:
        start = time.monotonic()
        client.predict(DEFAULT_TURNS[0].question, "raad", "alle", backend, "[]", api_name="/ask")
        return time.monotonic() - start
    finally:
        client.close()


# --------------------------------------------------------------------------- report


def table(summary: dict[str, Any]) -> str:
    """The summary of one run as a plain text table."""
    lat, queue = summary["latency_s"], summary["queue"]
    rows = [
        ["backend", summary["backend"]],
        ["sessions × duration", f"{summary['sessions']} × {summary['duration_s']:.0f} s"],
        ["elapsed", f"{summary['elapsed_s']} s"],
        [
            "requests (answered / refused)",
            f"{summary['requests']} ({summary['answered']} / {summary['refused']})",
        ],
        ["errors / malformed", f"{summary['errors']} / {summary['malformed']}"],
        ["sessions without an answer", summary["sessions_without_answer"]],
        ["latency p50 / p95 / max", f"{lat['p50']} / {lat['p95']} / {lat['max']} s"],
        ["throughput", f"{summary['throughput_rps']} requests/s"],
        [
            "queue wait p50 / p95 / max",
            f"{queue['wait_s']['p50']} / {queue['wait_s']['p95']} / {queue['wait_s']['max']} s",
        ],
        ["requests queued behind others", queue["queued_behind_others"]],
        ["requests that waited > 1 s", queue["waited_over_1s"]],
        ["max rank seen / max queue size", f"{queue['max_rank']} / {queue['max_queue_size']}"],
        ["most processed at once", queue["max_processing_at_once"]],
        [
            "local model: told a place / furthest back",
            f"{queue['told_local_place']} / {queue['max_local_place']}",
        ],
    ]
    return render_table(["", "value"], rows)


def write_results(summary: dict[str, Any], note: str, folder: Path = RESULTS_DIR) -> Path:
    """load-<backend>.json with the full run, and the run's summary under its backend in
    load.json (the runs of both backends side by side)."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "load",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "note": note,
        **summary,
    }
    path = folder / f"load-{summary['backend']}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    combined_path = folder / "load.json"
    combined = {}
    if combined_path.is_file():
        with contextlib.suppress(ValueError):
            combined = json.loads(combined_path.read_text(encoding="utf-8"))
    short = {k: v for k, v in payload.items() if k != "requests_detail"}
    combined[summary["backend"]] = short
    combined_path.write_text(
        json.dumps(combined, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - stress script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds")
    parser.add_argument("--backend", default="extractive", choices=["extractive", "local"])
    parser.add_argument("--max-requests", type=int, default=1000, help="per session")
    parser.add_argument("--timeout", type=float, default=600.0, help="per request, seconds")
    parser.add_argument("--url", help="a running app on loopback (else one is started)")
    parser.add_argument(
        "--chat-concurrency",
        type=int,
        default=None,
        help="the started app's chat_concurrency (default: its setting)",
    )
    parser.add_argument(
        "--note",
        default="machine shared during run (2 cores; other engineers' tests ran at the same time)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        serve(args.backend, args.port, args.store, args.chat_concurrency)
        return

    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ivb-load-")))
            print(f"starting the app ({args.backend}) …", flush=True)
            url = stack.enter_context(app_process(args.backend, workdir, args.chat_concurrency))
        _require_loopback(url)
        warm = warm_up(url, args.backend)
        print(
            f"{url}: warm-up answer in {warm:.1f} s; {args.sessions} sessions for "
            f"{args.duration:.0f} s …",
            flush=True,
        )
        load_before = os.getloadavg()
        summary = run_load(
            url,
            args.sessions,
            args.duration,
            args.backend,
            max_requests=args.max_requests,
            timeout_s=args.timeout,
        )
        summary["warm_up_s"] = round(warm, 2)
        summary["load_avg_before"] = [round(x, 2) for x in load_before]
    print(table(summary))
    print(f"\nwrote {write_results(summary, args.note, args.out)}")


if __name__ == "__main__":  # pragma: no cover
    main()
