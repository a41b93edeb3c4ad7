"""An optional LLM judge on an OpenAI-compatible endpoint: is the answer correct, and
does every claim stand in the cited passages?

Configured by ``judge_base_url`` / ``judge_model`` / ``judge_api_key`` on the settings, or
until those exist there, by ``IVB_JUDGE_BASE_URL`` / ``IVB_JUDGE_MODEL`` /
``IVB_JUDGE_API_KEY``. Without a base URL there is no judge and the run skips it.

The judge is asked for a JSON object ``{"score": 1-5, "uitleg": "..."}``; `parse_verdict`
accepts much worse (prose around it, code fences, a bare digit) and gives ``None`` when
nothing usable is there. A judge that fails never fails the run: the verdict carries the
error instead.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.prompts import CORRECTNESS_PROMPT, FAITHFULNESS_PROMPT, JUDGE_SYSTEM

SCORE_KEYS = ("score", "oordeel", "cijfer", "rating", "grade")
REASON_KEYS = ("uitleg", "toelichting", "reden", "reason", "explanation")
_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_KEYED = re.compile(
    r"[\"']?(?:" + "|".join(SCORE_KEYS) + r")[\"']?\s*[:=]\s*[\"']?(\d+(?:[.,]\d+)?)", re.I
)
_DIGIT = re.compile(r"(?<![\d.,])([1-5])(?!\d)(?![.,]\d)")


@dataclass(frozen=True)
class JudgeConfig:
    """Where the judge runs."""

    base_url: str
    model: str
    api_key: str | None = None


@dataclass
class Verdict:
    """One judgement: a score in [0, 1] (None when unusable), the reason, and the raw reply."""

    score: float | None
    reason: str = ""
    raw: str = ""
    error: str | None = None


def judge_config(settings: Any) -> JudgeConfig | None:
    """The judge's configuration from the settings or the IVB_JUDGE_* environment.

    Args:
        settings: the assistant's settings (judge_* attributes are optional).
    """
    base_url = getattr(settings, "judge_base_url", None) or os.environ.get("IVB_JUDGE_BASE_URL")
    if not base_url:
        return None
    model = (
        getattr(settings, "judge_model", None)
        or os.environ.get("IVB_JUDGE_MODEL")
        or getattr(settings, "openai_model", None)
        or "gpt-4o-mini"
    )
    key = getattr(settings, "judge_api_key", None) or os.environ.get("IVB_JUDGE_API_KEY")
    if key is not None and hasattr(key, "get_secret_value"):
        key = key.get_secret_value()
    return JudgeConfig(base_url=str(base_url), model=str(model), api_key=key or None)


def _normalise_score(value: float) -> float:
    """A 1-5 score onto [0, 1]; a fraction below 1 is taken as already normalised."""
    if 0.0 < value < 1.0:
        return value
    return min(max((value - 1.0) / 4.0, 0.0), 1.0)


def _first_json_object(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text[match.start() :])
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def parse_verdict(text: str) -> tuple[float | None, str]:
    """The score (0..1) and reason in a judge's reply, however messy.

    Tries, in order: the first JSON object with a score key; a ``score: N`` written
    anywhere; the first lone digit 1-5. Reasoning in ``<think>`` blocks is ignored.

    Args:
        text: the judge model's reply.
    """
    text = _THINK.sub("", text or "").strip()
    obj = _first_json_object(text)
    if obj is not None:
        lowered = {str(k).lower(): v for k, v in obj.items()}
        reason = next((str(lowered[k]) for k in REASON_KEYS if k in lowered), "")
        for key in SCORE_KEYS:
            value = lowered.get(key)
            try:
                number = float(str(value).replace(",", "."))
            except (TypeError, ValueError):
                continue
            return _normalise_score(number), reason
    keyed = _KEYED.search(text)
    if keyed:
        return _normalise_score(float(keyed.group(1).replace(",", "."))), text[:200]
    digit = _DIGIT.search(text)
    if digit:
        return _normalise_score(float(digit.group(1))), text[:200]
    return None, text[:200]


class Judge:
    """Asks a chat model to grade answers.

    Args:
        config: endpoint, model and key.
        client: an ``openai.OpenAI``-like client (made from config when None).
        timeout_s: per request.
    """

    def __init__(self, config: JudgeConfig, client: Any | None = None, timeout_s: float = 120.0):
        self.config = config
        if client is None:
            from openai import OpenAI

            client = OpenAI(
                base_url=config.base_url,
                api_key=config.api_key or "geen-sleutel",
                timeout=timeout_s,
                max_retries=1,
            )
        self.client = client

    @property
    def name(self) -> str:
        return self.config.model

    def correctness(
        self, question: str, answer: str, reference: str | None, key_facts: Sequence[str]
    ) -> Verdict:
        """How right and complete the answer is against the reference and key facts."""
        facts = ", ".join(f.removeprefix("re:") for f in key_facts) or "(geen)"
        prompt = CORRECTNESS_PROMPT.format(
            question=question, reference=reference or "(geen)", facts=facts, answer=answer
        )
        return self._ask(prompt)

    def faithfulness(self, answer: str, passages: Sequence[str]) -> Verdict:
        """How well the cited passages carry every claim of the answer."""
        blocks = "\n\n".join(f"[{i}] {p}" for i, p in enumerate(passages, start=1)) or "(geen)"
        return self._ask(FAITHFULNESS_PROMPT.format(passages=blocks, answer=answer))

    def _ask(self, prompt: str) -> Verdict:
        try:
            response = self.client.chat.completions.create(
                model=self.config.model,
                messages=[
                    {"role": "system", "content": JUDGE_SYSTEM},
                    {"role": "user", "content": prompt},
                ],
                temperature=0,
                max_tokens=300,
            )
            raw = response.choices[0].message.content or ""
        except Exception as exc:  # any transport or API failure: record, don't stop the run
            return Verdict(None, error=f"{type(exc).__name__}: {exc}")
        score, reason = parse_verdict(raw)
        return Verdict(score, reason, raw, None if score is not None else "geen score gevonden")


def make_judge(settings: Any) -> Judge | None:
    """The configured judge, or None when no judge endpoint is set."""
    config = judge_config(settings)
    return Judge(config) if config else None
