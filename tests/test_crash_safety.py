"""A short crash trial in CI; `python -m tests.stress.crash` runs the full 20-kill one."""

from __future__ import annotations

import pytest

from tests.stress.crash import run_trials


@pytest.mark.slow
def test_kill_minus_nine_during_ingest_and_replace(tmp_path):
    result = run_trials(kills=4, docs=6, workdir=tmp_path)
    assert result["trials_with_problems"] == []
    assert result["final_run_failed"] == []
    assert result["final_equals_clean"]
