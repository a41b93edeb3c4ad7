"""Evaluation of retrieval and answers against hand-written gold sets.

One concept per module: `dataset` (the JSON-lines gold format), `metrics` (pure scoring
functions), `runner` (asks every question through the real pipeline), `report` (files
and tables for people), `judge` (optional LLM judge), `faq` (the Rijksoverheid FAQ as
a corpus plus gold set) and `feedback` (thumbs feedback → gold records).

The public entry points are re-exported here; importing this package loads no model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["convert_faq", "from_feedback", "load_dataset", "render_summary_table", "run_eval"]

if TYPE_CHECKING:
    from assistant.evaluation.dataset import load_dataset
    from assistant.evaluation.faq import convert_faq
    from assistant.evaluation.feedback import from_feedback
    from assistant.evaluation.report import render_summary_table
    from assistant.evaluation.runner import run_eval

_WHERE = {
    "convert_faq": "assistant.evaluation.faq",
    "from_feedback": "assistant.evaluation.feedback",
    "load_dataset": "assistant.evaluation.dataset",
    "render_summary_table": "assistant.evaluation.report",
    "run_eval": "assistant.evaluation.runner",
}


def __getattr__(name: str) -> Any:
    # Lazy, so that `import assistant.evaluation` stays cheap for the CLI.
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(name)
