"""Entry point of the local model's process: llama-cpp-python's OpenAI-compatible server,
bound to the life of the app that started it.

``python -m assistant.model_child --model F.gguf --port N …`` asks the kernel to kill this
process when its parent dies (Linux ``PR_SET_PDEATHSIG``), so a model server never outlives
a crashed or killed app, then runs ``llama_cpp.server`` with the same arguments.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import runpy
import signal
import sys

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def main() -> None:
    _die_with_parent()
    sys.argv = ["llama_cpp.server", *sys.argv[1:]]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
