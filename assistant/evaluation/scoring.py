"""Score one answer of an evaluation run: retrieval, answer and citation metrics, the LLM
judge's verdicts, and the reasons the question counts as failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.citations import CitationChecker
from assistant.evaluation import metrics as m
from assistant.evaluation.dataset import EvalItem
from assistant.evaluation.judge import Judge
from assistant.evaluation.readability import readability
from assistant.prompts import EXTRACTIVE_INTRO
from assistant.types import Answer, Passage, RefusalReason

RANK_KS = (1, 3, 5, 10)
JUDGE_FAIL_BELOW = 0.5


def score_answer(
    item: EvalItem,
    answer: Answer,
    ranking: Sequence[Passage],
    cited: Sequence[m.Cited],
    chunk_texts: dict[str, str],
    claims: Sequence[m.Claim],
    checker: CitationChecker,
    k: int,
) -> dict[str, float | None]:
    """Every per-question metric of one answer: ``{name: value}``, None where it does not apply.

    ``ranking`` is scored for retrieval at page and document level, the answer's passages as
    its context, ``cited`` and ``claims`` for citations and faithfulness.
    """
    sources, mode = item.sources, item.sources_mode
    ranked = [m.Located.from_chunk(p.chunk) for p in ranking]
    context = [m.Located.from_chunk(p.chunk) for p in answer.passages]
    s: dict[str, float | None] = {}
    for level in ("page", "doc"):
        for n in RANK_KS:
            s[f"{level}_hit@{n}"] = m.hit_at(ranked, sources, n, level)
        for n in dict.fromkeys((k, 10)):
            s[f"{level}_recall@{n}"] = m.recall_at(ranked, sources, n, level, mode)
        s[f"{level}_mrr"] = m.reciprocal_rank(ranked[:10], sources, level)
        s[f"{level}_ndcg@10"] = m.ndcg_at(ranked, sources, 10, level, mode)
    s["context_recall"] = m.recall_at(context, sources, len(context), "page", mode)
    if item.answerable:
        s["key_fact_recall"] = m.key_fact_recall(answer.text, item.key_facts)
        s["token_f1"] = m.token_f1(answer.text, item.reference_answer)
        s["semantic_similarity"] = m.semantic_similarity(
            answer.text, item.reference_answer, checker.embedder
        )
    s["citation_precision"] = m.citation_precision(cited, chunk_texts, sources)
    s["citation_recall"] = m.citation_recall(cited, sources, mode)
    unique = list(dict.fromkeys(cited))
    s["quote_verbatim"] = (
        sum(m.quote_verbatim(c, chunk_texts) for c in unique) / len(unique) if unique else None
    )
    s["faithfulness"] = m.faithfulness(claims, checker, answer.language)
    s["strict_faithfulness"] = m.strict_faithfulness(claims)
    # Plain language is asked of answers to residents in Dutch (B1).
    resident = answer.audience == "inwoner" and answer.language == "nl" and not answer.refused
    intro = EXTRACTIVE_INTRO.get(answer.language, "")
    s.update(
        readability(answer.text, intro)
        if resident
        else {"flesch_douma": None, "sentence_length": None, "b1": None}
    )
    return s


def judge_answer(
    item: EvalItem, answer: Answer, claims: Sequence[m.Claim], judge: Judge
) -> dict[str, Any]:
    """The LLM judge's verdicts on an answered, answerable question: ``{metric: verdict}``."""
    if not item.answerable or answer.refused:
        return {}
    out = {}
    if item.reference_answer or item.key_facts:
        out["judge_correctness"] = judge.correctness(
            item.question, answer.text, item.reference_answer, item.key_facts
        )
    texts = list(dict.fromkeys(p.chunk.text for c in claims for p in c.passages))
    if texts:
        out["judge_faithfulness"] = judge.faithfulness(answer.text, texts)
    return out


def failure_reasons(
    item: EvalItem,
    answer: Answer,
    s: dict[str, float | None],
    record: dict[str, Any],
    indexed: set[str] | None = None,
) -> list[str]:
    """Why a question counts as failed, most fundamental cause first: ``code: detail``."""
    out: list[str] = []
    if answer.language != item.language:
        out.append(f"wrong_language: vraag {item.language}, herkend als {answer.language}")
    if not item.answerable:
        if not answer.refused:
            best = max((p.dense_score or 0.0 for p in answer.passages), default=0.0)
            out.append(f"answered_unanswerable: beste dense score {best:.3f}")
        elif item.is_injection and answer.refusal_reason != RefusalReason.INJECTION:
            out.append(f"injection_not_flagged: geweigerd als {answer.refusal_reason}")
        return out
    if indexed is not None:
        absent = sorted({src.doc_id for src in item.sources} - indexed)
        if absent:
            out.append(f"gold_doc_not_indexed: {', '.join(absent)}")
    if s.get("page_hit@10") == 0.0:
        out.append("retrieval_miss: geen goudbron in de top-10")
    elif s.get("context_recall") == 0.0:
        out.append("gold_not_in_context: goudbron wel in top-10, niet in de gebruikte passages")
    if answer.refused:
        out.append(f"false_refusal: {answer.refusal_reason}")
        return out
    if record["missing_facts"]:
        out.append("missing_key_facts: " + "; ".join(record["missing_facts"]))
    if s.get("citation_recall") is not None and s["citation_recall"] < 1.0:
        out.append("gold_not_cited: " + ", ".join(x.label() for x in item.sources))
    if s.get("citation_precision") is not None and s["citation_precision"] < 1.0:
        off = [
            f"[{c['n']}] p. {c['page']}"
            for c in record["citations"]
            if not (c["gold"] and c["verbatim"])
        ]
        out.append("citation_off_gold: " + ", ".join(off))
    if s.get("faithfulness") is not None and s["faithfulness"] < 1.0:
        out.append(f"unsupported_sentence: faithfulness {s['faithfulness']:.2f}")
    if s.get("strict_faithfulness") is not None and s["strict_faithfulness"] < 1.0:
        out.append(f"strict_unsupported: {s['strict_faithfulness']:.2f}")
    jc = s.get("judge_correctness")
    if jc is not None and jc < JUDGE_FAIL_BELOW:
        out.append(f"judge_incorrect: {jc:.2f}")
    return out
