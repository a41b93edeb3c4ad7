"""The local LLM's speed (time to first token, tokens/s) and a serving process's memory.

The LLM (llama.cpp) answers with 5 retrieved passages, through our LangChain chat model
and, as baseline, llama.cpp's own `create_chat_completion` with the same messages; its KV
cache is reset before every call, so each time to first token includes reading the whole
prompt. Then, as served: our model with the system prompt's cache reused. Used by
query_latency.py.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import Timer


def _messages(settings: Any, retriever: Any, question: str) -> list[tuple[str, str]]:
    """The (role, content) messages the answer pipeline sends for a question: its 5
    passages, focused as configured."""
    from assistant import prompts
    from assistant.language import detect

    passages = retriever.search(question, k=5)
    return prompts.answer_messages(
        question, passages, settings.audience, detect(question), settings.llm_passage_chars,
        retriever.store.idf,
    )  # fmt: skip


def _stream(
    who: str, chat: Any, llama: Any, system: str, user: str, max_tokens: int
) -> Iterator[str]:
    """The text pieces of one answer: from our chat model ("ours") or llama.cpp directly
    ("llama.cpp"). The call starts here; the pieces come as they are read."""
    if who == "ours":
        return (
            getattr(c, "content", "")
            for c in chat.stream([("system", system), ("human", user)], max_tokens=max_tokens)
        )
    return (
        part["choices"][0]["delta"].get("content") or ""
        for part in llama.create_chat_completion(
            messages=[
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            max_tokens=max_tokens,
            temperature=0.0,
            stream=True,
        )
    )


def _timed_call(
    who: str, chat: Any, llama: Any, messages: tuple[str, str], max_tokens: int
) -> dict[str, float]:
    """One call with llama.cpp's KV cache reset: {"ttft_s", "total_s", "tokens",
    "tokens_per_s"} (seconds; tokens counted by llama.cpp's tokenizer).

    Args:
        who: "ours" or "llama.cpp".
        messages: (system, user) texts.
    """
    system, user = messages
    llama.reset()
    pieces: list[str] = []
    first = None
    start = time.perf_counter()
    for piece in _stream(who, chat, llama, system, user, max_tokens):
        if piece:
            first = first if first is not None else time.perf_counter() - start
            pieces.append(piece)
    total = time.perf_counter() - start
    text = "".join(pieces)
    tokens = len(llama.tokenize(text.encode(), add_bos=False)) if text else 0
    rate = (tokens - 1) / (total - first) if first is not None and tokens > 1 else 0.0
    return {
        "ttft_s": round(first or total, 3),
        "total_s": round(total, 3),
        "tokens": tokens,
        "tokens_per_s": round(rate, 2),
    }


def _cold_runs(
    settings: Any, retriever: Any, chat: Any, llama: Any, qs: list[str], max_tokens: int
) -> dict[str, list[dict[str, float]]]:
    """Each question through both sides, in alternating order: {"ours": [...],
    "llama.cpp": [...]}, a `_timed_call` row and its "prompt_tokens" a question."""
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "llama.cpp": []}
    for i, q in enumerate(qs):
        (_, system), (_, user) = _messages(settings, retriever, q)
        # A different first token each round: neither side reuses a cached prefix, so
        # every call reads the whole prompt (the served model cannot be reset from here).
        system = f"({i}) {system}"
        prompt_tokens = len(llama.tokenize(f"{system}\n{user}".encode(), add_bos=True))
        order = ("ours", "llama.cpp") if i % 2 == 0 else ("llama.cpp", "ours")
        for who in order:
            row = _timed_call(who, chat, llama, (system, user), max_tokens)
            runs[who].append({**row, "prompt_tokens": prompt_tokens})
    return runs


def _warm_ttft(
    settings: Any, retriever: Any, chat: Any, qs: list[str], max_tokens: int
) -> list[float]:
    """Time to first token (s) of each question as served: the process answers one
    question after another with the same system prompt, and llama.cpp reuses the
    key/value cache of that common prefix. Primed with another question, then each
    question is timed without a reset."""
    from assistant import prompts

    warm: list[float] = []
    prime = [("system", prompts.system_prompt(settings.audience, "nl")), ("human", "Hallo")]
    for _ in chat.stream(prime, max_tokens=1):
        pass
    for q in qs:
        messages = _messages(settings, retriever, q)
        start = time.perf_counter()
        for c in chat.stream(messages, max_tokens=max_tokens):
            if getattr(c, "content", ""):
                warm.append(time.perf_counter() - start)
                break
    return warm


def _summary(rows: list[dict[str, float]]) -> dict[str, float]:
    """p50 and max time to first token (s), mean tokens/s and prompt tokens of some calls."""
    return {
        "ttft_p50_s": round(float(np.median([r["ttft_s"] for r in rows])), 3),
        "ttft_max_s": round(max(r["ttft_s"] for r in rows), 3),
        "tokens_per_s": round(float(np.mean([r["tokens_per_s"] for r in rows])), 2),
        "prompt_tokens_mean": round(float(np.mean([r["prompt_tokens"] for r in rows])), 1),
    }


def measure_llm(settings: Any, retriever: Any, qs: list[str], max_tokens: int) -> dict[str, Any]:
    """Time to first token and tokens/s: our chat model (the supervised model process,
    over its OpenAI-compatible API) vs llama.cpp's own call in this process."""
    from llama_cpp import Llama

    from assistant.llm import make_chat_model, start_local_model

    with Timer() as load:
        process = start_local_model(settings)
        chat = make_chat_model(settings, "local")
    llama = Llama(
        model_path=str(process.model_path), n_ctx=settings.llm_context,
        n_threads=settings.llm_threads, n_threads_batch=settings.llm_threads, verbose=False,
    )  # fmt: skip
    runs = _cold_runs(settings, retriever, chat, llama, qs, max_tokens)
    warm = _warm_ttft(settings, retriever, chat, qs, max_tokens)
    return {
        "model": process.model_path.name,
        "load_s": round(load.seconds, 2),
        "max_tokens": max_tokens,
        "threads": settings.llm_threads,
        "ours": _summary(runs["ours"]),
        "llama_cpp": _summary(runs["llama.cpp"]),
        "ours_warm_ttft_p50_s": round(float(np.median(warm)), 3) if warm else None,
        "ours_warm_ttft_s": [round(x, 3) for x in warm],
        "runs": runs,
    }


def serving_memory() -> dict[str, Any]:
    """RSS of a fresh serving process: the app's service on the IVB corpus with both models
    loaded, after one extractive and one local answer (what `ivb serve` holds): the app's
    process plus the local model's own process. Runs in a child process, so the big
    benchmark stores above do not count."""
    import subprocess

    code = (
        "import json, sys, tempfile\n"
        "from pathlib import Path\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from benchmarks.common import bench_settings, rss_mb\n"
        "from assistant.answer import AnswerPipeline\n"
        "from assistant.service import get_service\n"
        "from assistant.settings import REPO_ROOT\n"
        "from ingest.pipeline import ingest_paths\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    s = bench_settings(Path(tmp) / 'store')\n"
        "    ingest_paths([REPO_ROOT / 'corpus'], s)\n"
        "    p = AnswerPipeline(get_service(s))\n"
        "    embedder_mb = rss_mb()\n"
        "    q = 'Welke thema\\'s hebben de drie gemeenten samen geprioriteerd?'\n"
        "    p.ask(q, backend='extractive')\n"
        "    from assistant.llm import start_local_model\n"
        "    pid = start_local_model(s).pid\n"
        "    a = p.ask(q, backend='local')\n"
        "    kb = [l.split()[1] for l in open(f'/proc/{pid}/status') if l.startswith('VmRSS')]\n"
        "    model_mb = int(kb[0]) / 1024\n"
        "    print(json.dumps({'rss_mb': round(rss_mb() + model_mb, 1),\n"
        "        'embedder_only_mb': round(embedder_mb, 1),\n"
        "        'model_process_mb': round(model_mb, 1),\n"
        "        'answered': not a.refused}))\n"
    )
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", code, root], capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])
