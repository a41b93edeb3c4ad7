"""`python ui.py` is `ivb serve`: the same options, and an unknown one refused (status 2).

ui.main (which fills the store and serves) is replaced by a recorder: these tests are about
the command line only; the serving itself is tested in tests/test_ui.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ui

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def served(monkeypatch):
    calls = []
    monkeypatch.setattr(ui, "main", lambda settings=None: calls.append(settings))
    return calls


def _run(args: list[str]) -> int:
    from assistant.settings import get_settings

    get_settings.cache_clear()
    with pytest.raises(SystemExit) as exit_:
        ui.cli(args)
    return exit_.value.code


def test_ui_py_takes_port_host_and_store(served, tmp_path):
    assert _run(["--port", "7872", "--host", "0.0.0.0", "--store", str(tmp_path)]) == 0
    (settings,) = served
    assert (settings.port, settings.host, settings.store_dir) == (7872, "0.0.0.0", tmp_path)


def test_ui_py_without_arguments_serves_on_the_settings(served):
    from assistant.settings import get_settings

    assert _run([]) == 0
    (settings,) = served
    assert settings.port == get_settings().port


def test_ui_py_refuses_an_unknown_argument(served, capsys):
    assert _run(["--poort", "7872"]) == 2
    assert served == [] and "--poort" in capsys.readouterr().err


def test_python_ui_py_help_lists_the_serve_options():
    proc = subprocess.run(
        [sys.executable, "ui.py", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert all(option in proc.stdout for option in ("--port", "--host", "--store"))
