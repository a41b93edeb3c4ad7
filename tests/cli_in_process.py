"""`ivb` commands run inside the test process, through typer's CliRunner.

The command code, the store and the embedding model are the real ones; what is saved is a
new interpreter that imports torch and loads the embedding model again for every command
(10-15 s on the 2-core CI machine). The model is the process-wide one
(`assistant.embeddings.get_embedder`), which the session's ``embedder`` fixture has
loaded. Tests about the process itself start one: the console entry point
(tests/test_cli.py), no network (tests/test_offline.py), ``kill -9`` (tests/test_crash_safety.py),
a damaged model (tests/test_models.py).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def run_ivb(
    *args: str | Path, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `ivb ARGS` as `python -m assistant ARGS` would, in this process.

    Args:
        args: the command line after ``ivb``.
        env: environment variables set while the command runs (``IVB_*`` settings,
            ``COLUMNS``).
        stdin: what the command reads from standard input.

    Returns:
        The exit status and the output, as ``subprocess.run(..., text=True)`` gives them.
    """
    from typer.testing import CliRunner

    from assistant.cli import app
    from assistant.settings import get_settings

    argv = [str(a) for a in args]
    get_settings.cache_clear()  # the command reads its settings from this environment
    try:
        result = CliRunner().invoke(
            app, argv, input=stdin, env=dict(env or {}), catch_exceptions=False
        )
    finally:
        get_settings.cache_clear()
    return subprocess.CompletedProcess(argv, result.exit_code, result.stdout, result.stderr)
