"""Wrong use of `ivb`: a value no option accepts, or a backend these settings cannot use,
stops the command before it does anything, with a Dutch message and status 2 (no
traceback, no answer to a question that was not asked as meant)."""

from __future__ import annotations

import pytest

from tests.cli_in_process import run_ivb

Q = "Wat is het IVB?"


def _store(tmp_path) -> str:
    return str(tmp_path / "store")


# Each command that takes --llm, with what it needs besides.
LLM_COMMANDS = {"ask": ("ask", Q), "chat": ("chat",), "eval": ("eval", "goud.jsonl")}


@pytest.mark.parametrize("command", LLM_COMMANDS)
def test_an_unknown_backend_is_wrong_use(command, tmp_path):
    args = (*LLM_COMMANDS[command], "--llm", "gpt5")
    proc = run_ivb(*args, "--store", _store(tmp_path), env={"COLUMNS": "300"})
    assert proc.returncode == 2, proc.stderr
    assert "'gpt5'" in proc.stderr and "local, openai of extractive" in proc.stderr
    assert "Traceback" not in proc.stderr and "LLMConfigError" not in proc.stderr
    assert not (tmp_path / "store").exists()  # stopped before the store was filled


@pytest.mark.parametrize("command", LLM_COMMANDS)
def test_openai_without_its_url_is_one_line_and_wrong_use(command, tmp_path):
    args = (*LLM_COMMANDS[command], "--llm", "openai")
    proc = run_ivb(*args, "--store", _store(tmp_path), env={"IVB_OPENAI_BASE_URL": ""})
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("Fout: ") and "IVB_OPENAI_BASE_URL" in line, line
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (("ask", Q, "--gemeente", "Amsterdam"), "Dronten, Noordoostpolder of Urk"),
        (("chat", "--gemeente", "Amsterdam"), "Dronten, Noordoostpolder of Urk"),
        (("search", "veiligheid", "--gemeente", "Amsterdam"), "Dronten, Noordoostpolder of Urk"),
        (("ask", Q, "--doelgroep", "kind"), "raad of inwoner"),
        (("chat", "--doelgroep", "kind"), "raad of inwoner"),
    ],
    ids=["ask-gemeente", "chat-gemeente", "search-gemeente", "ask-doelgroep", "chat-doelgroep"],
)
def test_a_value_an_option_does_not_know_is_wrong_use(args, allowed, tmp_path):
    proc = run_ivb(*args, "--store", _store(tmp_path), env={"COLUMNS": "300"})
    assert proc.returncode == 2, proc.stdout[-500:] + proc.stderr
    assert args[-1] in proc.stderr and allowed in proc.stderr, proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "store").exists()


def test_choices_are_read_in_any_case():
    from assistant.cli import _audience, _backend, _municipality

    assert _municipality("urk") == "Urk" and _municipality("NOORDOOSTPOLDER") == "Noordoostpolder"
    assert _audience("Inwoner") == "inwoner" and _backend("Extractive") == "extractive"
    assert _municipality(None) is None
