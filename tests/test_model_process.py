"""The local model in its own supervised process: a crash, a hang or a model that cannot
load is an answer with a notice, never an outage; the build stays on its baseline.

The real model (the packaged GGUF in llama-cpp-python's server) is used wherever it can
show the failure: SIGKILL mid-answer, a GGUF that cannot load, `ivb ask` with a broken
model, the build's own report of its instruction sets. A stand-in child
(tests/fake_model_server.py) is used, and named, only for what the real model cannot be
made to do on purpose here: die with SIGILL, hang at start, stall mid-answer.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from assistant import llm, llm_build
from assistant.answer import AnswerPipeline
from assistant.model_process import (
    LocalModelProcess,
    ModelState,
    exit_reason,
    local_model_process,
    stop_local_model,
)
from assistant.settings import REPO_ROOT
from assistant.types import Answer
from tests.conftest import THEMES_PAGES
from tests.servers import free_port, running_app

FAKE = [sys.executable, str(Path(__file__).with_name("fake_model_server.py"))]
QUESTION = "Welke thema's hebben de drie gemeenten samen geprioriteerd?"

needs_runtime = pytest.mark.skipif(
    llm.local_runtime_missing() is not None, reason="llama-cpp-python server not installed"
)


def _bad_gguf(tmp_path: Path) -> Path:
    path = tmp_path / "kapot.gguf"
    path.write_bytes(b"GGUF" + os.urandom(4096))
    return path


def _pipeline(service, settings) -> AnswerPipeline:
    """The pipeline over the seeded store, generating with these (local) settings."""
    pipeline = AnswerPipeline(service)
    pipeline.settings = settings
    return pipeline


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0); it is gone once its state says so.
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ")[-1].startswith("Z")


# --------------------------------------------------------------------------- the build


def test_system_info_is_read_as_compiled_features() -> None:
    info = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | AVX512 = 1 |"
    assert llm_build.parse_system_info(info) == {"SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA",
                                                 "AVX512"}  # fmt: skip


def test_amx_listed_but_not_granted_is_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    cpuinfo = "flags\t\t: sse3 pni ssse3 avx avx2 fma f16c bmi2 avx512f amx_tile amx_int8\n"
    monkeypatch.setattr(llm_build, "amx_granted", lambda: False)
    have = llm_build.machine_features(cpuinfo)
    assert "AMX_INT8" not in have and {"AVX2", "AVX512", "FMA"} <= have
    monkeypatch.setattr(llm_build, "amx_granted", lambda: True)
    assert "AMX_INT8" in llm_build.machine_features(cpuinfo)


def test_a_build_beyond_the_machine_is_named_in_one_dutch_line() -> None:
    report = llm_build.CpuReport(
        build=frozenset({"AVX2", "AVX512", "AMX_INT8"}),
        machine=frozenset({"AVX2"}),
        missing=frozenset({"AVX512", "AMX_INT8"}),
        beyond_baseline=frozenset({"AVX512", "AMX_INT8"}),
        record=None,
    )
    line = report.line()
    assert "AMX_INT8, AVX512" in line and "bootstrap" in line and "\n" not in line


@needs_runtime
def test_the_built_library_uses_no_instruction_beyond_the_baseline() -> None:
    # What llama.cpp reports about its own build (compile-time flags), not the machine.
    report = llm_build.cpu_report()
    assert report.build, "llama.cpp reported no CPU features"
    assert "AVX2" in report.build
    assert report.beyond_baseline == set(), report.build
    assert not report.missing
    assert report.record is not None, "the bootstrap records its build options"
    assert "-DGGML_NATIVE=OFF" in report.record["cmake_args"]


# --------------------------------------------------------------------------- start failures


def test_sigill_at_start_is_reported_and_nothing_else_dies(tmp_path: Path) -> None:
    """Stand-in: a child that dies with SIGILL, as a build for another CPU does."""
    process = LocalModelProcess(_bad_gguf(tmp_path), command=[*FAKE, "sigill"])
    process.start()
    try:
        assert not process.wait(30)
        assert process.state is ModelState.FAILED
        assert "SIGILL" in process.reason and "ivb models --verify" in process.reason
        assert process.self_test is not None and not process.self_test.ok
    finally:
        process.stop()


def test_a_child_that_hangs_at_start_is_ended(tmp_path: Path) -> None:
    """Stand-in: a child that never listens."""
    process = LocalModelProcess(_bad_gguf(tmp_path), command=[*FAKE, "hang"], startup_timeout_s=3)
    process.start()
    try:
        assert not process.wait(20)
        assert "niet klaar" in process.reason
        pid = process.pid
        assert pid is None or _gone(pid)
    finally:
        process.stop()


@needs_runtime
def test_a_gguf_that_cannot_load_fails_with_its_reason(tmp_path: Path) -> None:
    process = LocalModelProcess(_bad_gguf(tmp_path), startup_timeout_s=60)
    process.start()
    try:
        assert not process.wait(90)
        assert process.state is ModelState.FAILED
        assert process.reason.startswith("het modelproces stopte met status")
    finally:
        process.stop()


def test_exit_reasons_are_dutch_and_name_the_signal() -> None:
    assert "SIGKILL" in exit_reason(-signal.SIGKILL) and "geheugen" in exit_reason(-9)
    assert exit_reason(1, "regel\nFailed to load model\n").endswith("Failed to load model")


# --------------------------------------------------------------------------- in the pipeline


@pytest.fixture
def local_settings(seeded_settings):
    """Settings over the seeded store with the local backend; their processes are stopped."""
    made = []

    def factory(**update):
        settings = seeded_settings.model_copy(update={"llm_backend": "local", **update})
        made.append(settings)
        return settings

    yield factory
    for settings in made:
        stop_local_model(settings)


@needs_runtime
def test_an_unloadable_model_answers_extractively_with_a_notice(
    seeded_service, local_settings, tmp_path: Path
) -> None:
    settings = local_settings(llm_gguf=str(_bad_gguf(tmp_path)), llm_startup_timeout_s=60)
    process = local_model_process(settings)
    assert not process.wait(90)
    answer = _pipeline(seeded_service, settings).ask(QUESTION, backend="local")
    assert not answer.refused
    assert answer.backend == "local+extractive" and answer.fallback == "model_unavailable"
    assert "niet beschikbaar" in answer.notice
    assert answer.citations and answer.citations[0].page in THEMES_PAGES


def test_a_model_that_stalls_mid_answer_falls_back_and_is_restarted(
    seeded_service, local_settings, tmp_path: Path
) -> None:
    """Stand-in: a server that streams one piece and then sends nothing."""
    settings = local_settings(llm_gguf=str(_bad_gguf(tmp_path)), llm_stall_timeout_s=2)
    process = local_model_process(settings, command=[*FAKE, "stall"])
    assert process.wait(30), process.reason
    first_pid = process.pid
    pieces = list(_pipeline(seeded_service, settings).stream(QUESTION, backend="local"))
    answer = pieces[-1]
    assert isinstance(answer, Answer)
    assert "De gemeenten " in pieces  # the piece that streamed before the stall
    assert answer.fallback == "model_failed" and "viel uit" in answer.notice
    assert not answer.refused and answer.citations
    assert "cybercrime" in answer.text.lower()
    # The stalled child was ended and a new one started.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (process.ready and process.pid != first_pid):
        time.sleep(0.2)
    assert process.ready and process.pid != first_pid and _gone(first_pid)


@pytest.mark.llm
@needs_runtime
def test_sigkill_mid_answer_falls_back_and_the_restarted_model_answers(
    seeded_service, local_settings
) -> None:
    settings = local_settings()
    process = local_model_process(settings)
    assert process.wait(200), process.reason
    first_pid = process.pid
    pipeline = _pipeline(seeded_service, settings)
    pieces: list[object] = []
    for piece in pipeline.stream(QUESTION, backend="local"):
        pieces.append(piece)
        if len(pieces) == 1:
            os.kill(first_pid, signal.SIGKILL)
    answer = pieces[-1]
    assert isinstance(answer, Answer)
    assert answer.fallback == "model_failed" and answer.notice
    assert not answer.refused and answer.citations
    # This process (the app) lives on; the model comes back in a new process.
    deadline = time.monotonic() + 200
    while time.monotonic() < deadline and not (process.ready and process.pid != first_pid):
        time.sleep(0.2)
    assert process.ready and process.pid != first_pid and process.restarts >= 1
    again = pipeline.ask(QUESTION, backend="local")
    assert again.fallback != "model_failed" and not again.notice
    assert again.backend.startswith("local") and not again.refused


@needs_runtime
def test_ivb_ask_with_a_broken_model_exits_3_with_one_line(seeded_settings, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "IVB_STORE_DIR": str(seeded_settings.store_dir),
        "IVB_CORPUS_DIR": str(seeded_settings.corpus_dir),
        "IVB_LLM_GGUF": str(_bad_gguf(tmp_path)),
        "IVB_LLM_STARTUP_TIMEOUT_S": "60",
        "PYTHONPATH": str(REPO_ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", QUESTION, "--llm", "local"],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Modelfout: "), done.stderr
    assert "start niet" in lines[0] and "Traceback" not in done.stderr


# --------------------------------------------------------------------------- in the web app


@needs_runtime
def test_the_app_starts_without_a_model_that_cannot_load(
    seeded_settings, seeded_service, tmp_path: Path
) -> None:
    import ui
    from web.layout import build_app

    settings = seeded_settings.model_copy(
        update={"llm_backend": "local", "llm_gguf": str(_bad_gguf(tmp_path)),
                "llm_startup_timeout_s": 60}
    )  # fmt: skip
    console = Console(file=io.StringIO(), width=300)
    try:
        ui.start_local_model_if_used(settings, console)
        printed = console.file.getvalue()
        assert "niet gestart" in printed and "status 1" in printed
        demo = build_app(settings, seeded_service)
        assert demo.ivb_app.chat.backends == ["extractive"]
        assert "Het lokale taalmodel is niet gestart" in json.dumps(demo.config, default=str)
    finally:
        stop_local_model(settings)


@pytest.mark.llm
@needs_runtime
def test_the_web_app_answers_through_a_model_crash(base_settings, embedder, tmp_path: Path):
    from gradio_client import Client

    settings = base_settings.model_copy(
        update={"store_dir": tmp_path / "store", "llm_backend": "local", "port": free_port()}
    )
    process = llm.start_local_model(settings)
    try:
        with running_app(settings, embedder) as (url, app):
            assert app.chat.backends[0] == "local"
            client = Client(url, verbose=False)
            first_pid = process.pid
            os.kill(first_pid, signal.SIGKILL)
            # Asked while the model restarts: the question waits for it, or is quoted with
            # the notice; either way it is answered and the server stays up.
            during = client.predict(QUESTION, "raad", "alle", "local", "[]", api_name="/ask")
            assert not during["refused"] and during["citations"]
            assert bool(during["notice"]) == (
                during["fallback"] in ("model_failed", "model_unavailable")
            )
            other = client.predict(QUESTION, "raad", "alle", "extractive", "[]", api_name="/ask")
            assert not other["refused"] and not other["notice"]
            deadline = time.monotonic() + 200
            while time.monotonic() < deadline and not (process.ready and process.pid != first_pid):
                time.sleep(0.2)
            assert process.ready and process.pid != first_pid
            after = client.predict(QUESTION, "raad", "alle", "local", "[]", api_name="/ask")
            assert not after["notice"] and after["backend"].startswith("local")
            assert not after["refused"]
    finally:
        stop_local_model(settings)
