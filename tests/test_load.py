"""A short load run in CI; `python -m tests.stress.load` runs the full 20-session one.

The app runs for real (a seeded Chroma store, the real embedding model, and for the `llm`
test the packaged GGUF), launched in this process on a free loopback port; every session
is its own gradio_client.Client calling the named `ask` endpoint.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

import ui
from assistant.models import llm_model_path
from assistant.settings import Settings
from tests.conftest import CORPUS
from tests.servers import free_port
from tests.stress.load import DEFAULT_TURNS, Turn, check_answer, run_load


@pytest.fixture(scope="module")
def served(tmp_path_factory, base_settings: Settings, embedder) -> Iterator[tuple[str, ui.WebApp]]:
    """The real app on a free loopback port, over its own seeded store."""
    from assistant.service import get_service
    from ingest.pipeline import ingest_paths

    settings = base_settings.model_copy(
        update={
            "store_dir": tmp_path_factory.mktemp("load"),
            "port": free_port(),
            "host": "127.0.0.1",
            "llm_max_tokens": 128,  # shorter answers; the queueing is the same
        }
    )
    assert ingest_paths([CORPUS], settings, embedder=embedder).ok
    service = get_service(settings)
    service.retriever._embedder = embedder
    demo = ui.build_app(settings, service)
    ui.launch(demo, settings, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{settings.port}/", demo.ivb_app
    finally:
        demo.close()


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
    assert "no key 'passages'" in check_answer({"answer": "x"}, "extractive")


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
def test_local_model_queues_requests_instead_of_failing(served):
    url, app = served
    if not llm_model_path(app.settings).is_file():
        pytest.skip("the packaged GGUF is not fetched (ivb models --fetch)")
    app.pipeline.chat_model("local").load()  # loading is not what the requests wait for
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

    # Either Gradio showed someone a place behind another request, or the model served
    # them one at a time: three like requests sent together then end about one model
    # run apart (the last after two or three runs), where run side by side they would
    # end together. Compared within this run, not against a fixed time.
    told_their_place = summary["queue"]["queued_behind_others"] > 0
    latencies = sorted(r["latency_s"] for r in detail)
    served_in_turn = latencies[-1] >= 1.5 * latencies[0]
    assert told_their_place or served_in_turn, latencies
