"""The local LLM in its own supervised process, reached over the OpenAI-compatible API.

The app never loads llama.cpp itself: a native crash (SIGILL on a CPU the build does not
fit, an out-of-memory kill, a segfault) or a hang of the model must end the model's
process, not the web server. ``LocalModelProcess`` starts llama-cpp-python's own
OpenAI-compatible server (``llama_cpp.server``) on a loopback port through
``assistant.model_child``, waits for it, has it generate one token (the start-up
self-test), and watches it from one thread: when it dies it is started again with
exponential back-off (1 s, 2 s, 4 s … at most ``MAX_BACKOFF_S``). Callers ask ``base_url``
while it is ready and call ``report_failure`` when a request breaks or stalls, which ends
a stalled child so that it is restarted.
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import json
import logging
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from assistant.settings import Settings

log = logging.getLogger("ivb.model")
# A library logs, the application decides where to: no stderr lines in `ivb` commands.
logging.getLogger("ivb").addHandler(logging.NullHandler())

MODEL_ALIAS = "ivb-local"
MAX_BACKOFF_S = 60.0
_POLL_S = 0.2


class ModelState(enum.StrEnum):
    """Where the model process is in its life."""

    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    RESTARTING = "restarting"  # it was ready, died, and is being started again
    FAILED = "failed"  # it has not come up (yet); retried with back-off


@dataclass(frozen=True)
class SelfTest:
    """The start-up self-test: one generated token.

    Attributes:
        ok: Whether the model produced a token.
        seconds: Wall time of the request (s), including prompt processing.
        detail: The token, or why it failed (Dutch).
    """

    ok: bool
    seconds: float
    detail: str


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def exit_reason(returncode: int, log_tail: str = "") -> str:
    """A Dutch reason for a child's end, from its exit status and the end of its log.

    Args:
        returncode: ``Popen.returncode``: negative for a signal (e.g. -4 for SIGILL).
        log_tail: The last lines the child wrote.
    """
    if returncode < 0:
        sig = -returncode
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGILL:
            return (
                f"het modelproces stopte met {name} (ongeldige instructie): de llama.cpp-build "
                "past niet bij deze processor; zie `ivb models --verify`"
            )
        if sig == signal.SIGKILL:
            return f"het modelproces is gestopt met {name} (afgebroken of te weinig geheugen)"
        return f"het modelproces stopte door signaal {name}"
    lines = [line.strip() for line in log_tail.splitlines() if line.strip()]
    last = lines[-1][:300] if lines else ""
    return f"het modelproces stopte met status {returncode}" + (f": {last}" if last else "")


class LocalModelProcess:
    """A supervised ``llama_cpp.server`` child serving one GGUF file.

    Args:
        model_path: The GGUF file to serve.
        n_ctx: Context size (tokens).
        n_threads: CPU threads for generation and prompt reading.
        startup_timeout_s: How long one start may take until the self-test answered (s).
        command: The child's command line without the server options; the default runs
            ``assistant.model_child``. Tests put a stand-in here.
        alias: The model name the server lists and answers to.
    """

    def __init__(
        self,
        model_path: Path,
        n_ctx: int = 4096,
        n_threads: int = 2,
        startup_timeout_s: float = 180.0,
        command: list[str] | None = None,
        alias: str = MODEL_ALIAS,
    ) -> None:
        self.model_path = Path(model_path)
        self.alias = alias
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.startup_timeout_s = startup_timeout_s
        self.command = command or [sys.executable, "-m", "assistant.model_child"]
        self.port = free_port()
        self.state = ModelState.STOPPED
        self.reason = ""
        self.self_test: SelfTest | None = None
        self.starts = 0  # processes started
        self.restarts = 0  # starts after the model had been ready once
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ public

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def ready(self) -> bool:
        """True while the child answers: READY and still running (a child that just died is
        not ready, even before the supervisor has noticed and moved the state on)."""
        return self.state is ModelState.READY and self.pid is not None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> LocalModelProcess:
        """Start supervising (returns at once; the first start runs in the background)."""
        if self._thread is None:
            self._stop.clear()
            self._set(ModelState.STARTING, "")
            self._thread = threading.Thread(target=self._supervise, name="ivb-model", daemon=True)
            self._thread.start()
        return self

    def wait(self, timeout_s: float) -> bool:
        """Wait until the model is ready or has failed to start once.

        Returns:
            True when ready within ``timeout_s`` seconds.
        """
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self.state in (ModelState.STARTING, ModelState.RESTARTING):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return self.ready

    def report_failure(self, why: str) -> None:
        """A request to the model broke or stalled: end the child so it is restarted."""
        proc = self._proc
        if proc is not None and proc.poll() is None and self.ready:
            log.warning("local model failed a request (%s): restarting it", why)
            self._set(ModelState.RESTARTING, f"het taalmodel reageerde niet ({why})")
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    def stop(self) -> None:
        """End the child and the supervision."""
        self._stop.set()
        self._end_child()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        self._set(ModelState.STOPPED, "")

    def status(self) -> dict[str, object]:
        """The state for logs, `ivb models --verify` and readiness checks."""
        return {
            "state": str(self.state),
            "reason": self.reason,
            "base_url": self.base_url,
            "pid": self.pid,
            "starts": self.starts,
            "restarts": self.restarts,
            "self_test": None if self.self_test is None else self.self_test.__dict__,
        }

    # ------------------------------------------------------------------ supervision

    def _set(self, state: ModelState, reason: str) -> None:
        with self._changed:
            self.state, self.reason = state, reason
            self._changed.notify_all()

    def _supervise(self) -> None:
        failures = 0
        while not self._stop.is_set():
            was_ready = self._run_once()
            if self._stop.is_set():
                break
            failures = 0 if was_ready else failures + 1
            backoff = min(MAX_BACKOFF_S, 2.0 ** max(0, failures - 1))
            state = ModelState.RESTARTING if was_ready else ModelState.FAILED
            self._set(state, self.reason)
            log.warning("local model down (%s); next start in %.0f s", self.reason, backoff)
            if self._stop.wait(backoff):
                break
            if was_ready:
                self.restarts += 1

    def _run_once(self) -> bool:
        """Start one child and watch it until it ends. Returns whether it became ready."""
        if not self.model_path.is_file():
            self.reason = f"GGUF-bestand {self.model_path} ontbreekt; draai `ivb models --fetch`"
            return False
        self._spawn()
        if not self._await_ready():
            self._end_child()
            return False
        self._set(ModelState.READY, "")
        log.info(
            "local model ready on %s (self-test %.1f s)", self.base_url, self.self_test.seconds
        )
        proc = self._proc
        while proc is not None and proc.poll() is None and not self._stop.is_set():
            time.sleep(_POLL_S)
        died = proc is not None and proc.returncode is not None and not self._stop.is_set()
        if died and self.state is ModelState.READY:  # not already explained by report_failure
            self.reason = exit_reason(proc.returncode, self._log_tail())
        self._end_child()
        return True

    def _spawn(self) -> None:
        self._end_child()
        self._log = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115 - lives with the child
        cmd = [
            *self.command,
            "--model", str(self.model_path),
            "--model_alias", self.alias,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads),
            "--n_threads_batch", str(self.n_threads),
            # The app keeps its own first-come-first-served line; a new request must not
            # cut off the answer that is streaming.
            "--interrupt_requests", "False",
        ]  # fmt: skip
        self.starts += 1
        self._proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)
        log.info("local model process %d starting: %s", self._proc.pid, self.model_path.name)

    def _await_ready(self) -> bool:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline and not self._stop.is_set():
            if proc.poll() is not None:
                self.reason = exit_reason(proc.returncode, self._log_tail())
                self.self_test = SelfTest(False, 0.0, self.reason)
                return False
            if self._listening():
                self.self_test = self._generate_one_token(deadline - time.monotonic())
                if not self.self_test.ok:
                    self.reason = self.self_test.detail
                return self.self_test.ok
            time.sleep(0.25)
        self.reason = (
            f"het modelproces was na {self.startup_timeout_s:.0f} s niet klaar "
            "(te traag of vastgelopen)"
        )
        self.self_test = SelfTest(False, self.startup_timeout_s, self.reason)
        return False

    def _listening(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                listed = json.load(response)
        except (OSError, ValueError):
            return False
        return any(m.get("id") == self.alias for m in listed.get("data", []))

    def _generate_one_token(self, timeout_s: float) -> SelfTest:
        body = json.dumps(
            {
                "model": self.alias,
                "messages": [{"role": "user", "content": "Zeg ja."}],
                "max_tokens": 1,
                "temperature": 0,
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        t = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=max(1.0, timeout_s)) as response:
                reply = json.load(response)
            token = reply["choices"][0]["message"].get("content") or ""
        except (OSError, ValueError, KeyError, IndexError) as exc:
            proc = self._proc
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=1)
                if proc.returncode is not None:
                    return SelfTest(
                        False,
                        time.perf_counter() - t,
                        exit_reason(proc.returncode, self._log_tail()),
                    )
            return SelfTest(False, time.perf_counter() - t, f"de zelftest mislukte: {exc}")
        seconds = time.perf_counter() - t
        usage = reply.get("usage") or {}
        if usage.get("completion_tokens", 1) < 1:
            return SelfTest(False, seconds, "de zelftest gaf geen token")
        return SelfTest(True, seconds, token)

    def _end_child(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        logfile, self._log = self._log, None
        if logfile is not None:
            logfile.close()

    def _log_tail(self, size: int = 2000) -> str:
        logfile = self._log
        if logfile is None:
            return ""
        try:
            logfile.flush()
            logfile.seek(0, 2)
            end = logfile.tell()
            logfile.seek(max(0, end - size))
            return logfile.read().decode("utf-8", errors="replace")
        except (OSError, ValueError):
            return ""


# --------------------------------------------------------------------------- one per process

_PROCESSES: dict[tuple[str, int, int], LocalModelProcess] = {}
_LOCK = threading.Lock()


def _key(settings: Settings) -> tuple[str, int, int]:
    from assistant.model_fetch import llm_model_path

    path = llm_model_path(settings, fetch=False)
    return (str(path.resolve()), settings.llm_context, settings.llm_threads)


def local_model_process(
    settings: Settings, start: bool = True, command: list[str] | None = None
) -> LocalModelProcess:
    """The process-wide supervised model for these settings (started on first use).

    Args:
        settings: llm_gguf, llm_context, llm_threads and llm_startup_timeout_s.
        start: Start supervising now when it is not running yet.
        command: The child's command for a new process (see ``LocalModelProcess``).

    Raises:
        assistant.model_files.ModelError: The packaged GGUF is missing or damaged.
    """
    key = _key(settings)
    with _LOCK:
        process = _PROCESSES.get(key)
        if process is None:
            process = _PROCESSES[key] = LocalModelProcess(
                Path(key[0]),
                n_ctx=settings.llm_context,
                n_threads=settings.llm_threads,
                startup_timeout_s=settings.llm_startup_timeout_s,
                command=command,
            )
    if start:
        process.start()
    return process


def running_local_model(settings: Settings) -> LocalModelProcess | None:
    """The process for these settings if one was started in this app, else None."""
    from assistant.model_files import ModelError

    try:
        key = _key(settings)
    except (OSError, ModelError):  # a missing or damaged file: nothing was started for it
        return None
    with _LOCK:
        return _PROCESSES.get(key)


def stop_local_model(settings: Settings) -> None:
    """Stop and forget the process for these settings (a later call starts a new one)."""
    with _LOCK:
        process = _PROCESSES.pop(_key(settings), None)
    if process is not None:
        process.stop()


@atexit.register
def _stop_all() -> None:
    for process in list(_PROCESSES.values()):
        with contextlib.suppress(Exception):
            process.stop()
    _PROCESSES.clear()
