"""Time to first token of the local model, as served: the prompt of chosen sentences (the
LLM backends' answer prompt since issue 14) against the old prompt of five focused
passages, measured in the same run on the same questions.

"As served" is what the app does: the model's process keeps llama.cpp's cache of the
system prompt, which depends only on audience and language. Each prompt kind is primed
once with its own system prompt, then every question is timed without a reset; the two
kinds run one after the other (the server caches one prefix), old first.

    python benchmarks/phrase_prompt.py --store STORE_DIR [--questions 3]

Writes benchmarks/results/phrase_prompt.json. Goal: first token within 4 s on 2 cores;
ratio = new / old.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import prompts
from assistant.extractive import select_sentences
from assistant.question import Question
from benchmarks.common import machine_info

QUESTIONS = [
    "Welke thema's hebben de drie gemeenten samen geprioriteerd?",
    "Wie geeft de toelichting op de politiecijfers?",
    "Wanneer wordt het IVB 2024-2027 ter besluitvorming aangeboden?",
    "Welke lokale speerpunten heeft Dronten?",
    "Hoe laat begint de beeldvormende vergadering?",
]


def _first_token_s(chat: Any, messages: list[tuple[str, str]]) -> float:
    start = time.perf_counter()
    first = None
    for chunk in chat.stream(messages):
        if first is None and getattr(chunk, "content", ""):
            first = time.perf_counter() - start
    return first if first is not None else time.perf_counter() - start


def run(store: Path, n: int, audience: str = "raad") -> dict[str, Any]:
    from llama_cpp import Llama

    from assistant.llm import make_chat_model, start_local_model
    from assistant.service import get_service
    from assistant.settings import get_settings

    # A few output tokens suffice for the first token; the rest would only cost time.
    settings = get_settings().model_copy(update={"store_dir": store, "llm_max_tokens": 4})
    service = get_service(settings)
    process = start_local_model(settings)
    chat = make_chat_model(settings, "local")
    vocab = Llama(model_path=str(process.model_path), vocab_only=True, verbose=False)
    rows: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    built = []
    for q in QUESTIONS[:n]:
        question = Question.read(q)
        passages = service.retriever.search(question, k=settings.top_k)
        old = prompts.answer_messages(
            question, passages, audience, question.language, settings.llm_passage_chars,
            service.store.idf,
        )  # fmt: skip
        chosen = select_sentences(
            question, passages, service.retriever.embedder, idf=service.store.idf
        )
        new = prompts.phrase_messages(
            question.text,
            [(c.span.text, passages[c.passage].chunk.page_label) for c in chosen],
            audience, question.language,
        )  # fmt: skip
        built.append((q, {"old": old, "new": new}))
    for kind in ("old", "new"):
        system = built[0][1][kind][0]
        _first_token_s(chat, [system, ("human", "Hallo")])  # prime the cached prefix
        for q, messages in built:
            tokens = len(vocab.tokenize("\n".join(m for _, m in messages[kind]).encode()))
            rows[kind].append(
                {
                    "question": q,
                    "prompt_tokens": tokens,
                    "ttft_s": _first_token_s(chat, messages[kind]),
                }
            )
    summary = {
        kind: {
            "ttft_p50_s": round(float(np.median([r["ttft_s"] for r in rs])), 2),
            "prompt_tokens_mean": round(float(np.mean([r["prompt_tokens"] for r in rs])), 1),
        }
        for kind, rs in rows.items()
    }
    return {
        "machine": machine_info(),
        "questions": n,
        "old": summary["old"],
        "new": summary["new"],
        "ttft_ratio_new_over_old": round(
            summary["new"]["ttft_p50_s"] / summary["old"]["ttft_p50_s"], 3
        ),
        "prompt_token_ratio": round(
            summary["new"]["prompt_tokens_mean"] / summary["old"]["prompt_tokens_mean"], 3
        ),
        "runs": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a store holding corpus/")
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/phrase_prompt.json"))
    args = parser.parse_args()
    result = run(args.store, args.questions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("runs", "machine")}, indent=2))


if __name__ == "__main__":
    main()
