"""A short load run in CI; `python -m tests.stress.load` runs the full 20-session one.

The app runs for real (a seeded Chroma store, the real embedding model, and for the `llm`
test the packaged GGUF), launched in this process on a free loopback port; every session
is its own gradio_client.Client calling the named `ask` endpoint.
"""

from __future__ import annotations

import importlib.util
import itertools
import time
from collections.abc import Iterator

import pytest

from assistant.model_fetch import llm_model_path
from assistant.settings import Settings
from tests.servers import free_port, running_app
from tests.stress.load import DEFAULT_TURNS, Turn, check_answer, local_place, run_load
from web.layout import WebApp
from web.questions import LOCAL_TURN_TEXT
from web.render import LOCAL_QUEUE_TEXT


@pytest.fixture(scope="module")
def served(tmp_path_factory, base_settings: Settings, embedder) -> Iterator[tuple[str, WebApp]]:
    """The real app on a free loopback port, over its own seeded store."""

    settings = base_settings.model_copy(
        update={
            "store_dir": tmp_path_factory.mktemp("load"),
            "port": free_port(),
            "host": "127.0.0.1",
            "llm_max_tokens": 128,  # shorter answers; the queueing is the same
        }
    )
    with running_app(settings, embedder) as served_app:
        yield served_app


def test_check_answer_finds_malformed_answers():
    passage = {"id": "d:1", "text": "De thema's zijn cybercrime en ondermijning."}
    good = {
        "answer": "Volgens de documenten: cybercrime [1].",
        "refused": False,
        "citations": [{"n": 1, "chunk_id": "d:1", "quote": "cybercrime"}],
        "passages": [passage],
        "timings": {"total": 0.1},
        "backend": "extractive",
    }
    assert check_answer(good, "extractive") == []
    assert check_answer("tekst", "extractive") == ["not a dict but str"]
    assert check_answer({**good, "timings": None}, "extractive") == ["timings without a total"]
    assert check_answer({**good, "citations": []}, "extractive") == ["an answer without citations"]
    assert check_answer({**good, "refused": True}, "extractive") == ["a refusal with 1 citations"]
    blank = {**good, "citations": [{"n": 1, "chunk_id": "d:1", "quote": " "}]}
    assert check_answer(blank, "extractive") == ["citation 1 has no quote"]
    invented = {**good, "citations": [{"n": 1, "chunk_id": "d:1", "quote": "brandweer"}]}
    assert check_answer(invented, "extractive") == ["citation 1: quote not in its passage"]
    assert check_answer(good, "local") == ["answered by backend 'extractive', not 'local'"]
    # The model ran, then the code quoted the sentences itself: still the local backend.
    assert check_answer({**good, "backend": "local+extractive"}, "local") == []
    assert "no key 'passages'" in check_answer({"answer": "x"}, "extractive")


def test_local_place_is_read_from_the_progress():
    from gradio_client.utils import ProgressUnit

    def unit(index, desc):
        return ProgressUnit(index=index, length=3, unit="plaats", progress=None, desc=desc)

    assert local_place(None) is None and local_place([]) is None
    assert local_place([unit(2, LOCAL_QUEUE_TEXT.format(place=2))]) == 2
    assert local_place([unit(None, LOCAL_TURN_TEXT)]) is None
    assert local_place([unit(5, "iets anders")]) is None


@pytest.mark.slow
def test_eight_sessions_for_thirty_seconds_all_answered(served):
    url, _ = served
    summary = run_load(url, sessions=8, duration_s=30, backend="extractive", timeout_s=120)
    assert summary["errors"] == 0, summary["error_samples"]
    assert summary["malformed"] == 0, summary["malformed_samples"]
    assert summary["sessions_without_answer"] == 0, summary["answers_per_session"]
    assert summary["answered"] == summary["requests"] >= 8
    # The mix was asked: refusals for the question outside the documents, answers otherwise.
    asked = {r["question"] for r in summary["requests_detail"]}
    assert asked == {t.question for t in DEFAULT_TURNS}
    assert 0 < summary["refused"] < summary["answered"]
    # More sessions (8) than the app answers at once (chat_concurrency, 4): the others
    # waited in Gradio's queue, and were told their place there, instead of failing.
    assert served[1].settings.chat_concurrency < 8
    assert summary["queue"]["queued_behind_others"] > 0
    assert 0 < summary["queue"]["max_rank"] < 8


@pytest.mark.llm
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed (pip install '.[local-llm]')",
)
def test_local_model_serves_one_at_a_time_and_tells_the_place(served, monkeypatch):
    url, app = served
    if not llm_model_path(app.settings).is_file():
        pytest.skip("the packaged GGUF is not fetched (ivb models --fetch)")
    app.chat.pipeline.chat_model("local").load()  # loading is not what the requests wait for
    # When each request had the pipeline (a follow-up's rewrite and the answer both run
    # inside it), as the server saw it.
    spans: list[tuple[float, float]] = []
    stream = app.chat.pipeline.stream

    def timed_stream(*args, **kwargs):
        start = time.monotonic()
        try:
            yield from stream(*args, **kwargs)
        finally:
            spans.append((start, time.monotonic()))

    monkeypatch.setattr(app.chat.pipeline, "stream", timed_stream)
    # Three answerable questions, two audiences: each one reaches the model, and no two
    # prompts served one after another share the passages' prefix in llama.cpp's cache.
    turns = [
        Turn("Welke thema's hebben de drie gemeenten samen geprioriteerd?", audience="raad"),
        Turn("Wat zijn de lokale speerpunten van Dronten?", audience="inwoner"),
        Turn("Wie geeft de toelichting op de politiecijfers?", audience="raad"),
    ]
    summary = run_load(
        url, sessions=3, duration_s=1, backend="local", questions=turns, max_requests=1
    )
    detail = summary["requests_detail"]
    assert summary["errors"] == 0, summary["error_samples"]
    assert summary["malformed"] == 0, summary["malformed_samples"]
    assert summary["answered"] == 3 and len(detail) == 3
    assert all("first_token" in r["timings"] for r in detail)  # all three ran the model

    # Served one at a time: each request had the model only after the one before it
    # was done with it (the three are sent together and all start at once in Gradio:
    # the API's group takes chat_concurrency = 4).
    assert len(spans) == 3
    ordered = sorted(spans)
    assert all(nxt[0] >= prev[1] for prev, nxt in itertools.pairwise(ordered)), ordered
    # ... and the ones that waited were told their place in the model's line.
    queue = summary["queue"]
    assert queue["told_local_place"] >= 1 and 1 <= queue["max_local_place"] <= 2, queue
    assert len(app.chat.local_line) == 0  # every request left the line
