"""The answer pipeline: condense → retrieve → decide → generate → check citations.

What is known is decided by retrieval (a similarity threshold), what is said is checked
by code (citations.py). The LLM only phrases; when it is absent, the extractive
backend quotes the best sentences instead.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableGenerator

from assistant import prompts
from assistant.analysis import words
from assistant.answer_types import answers_kind
from assistant.answerability import assess
from assistant.citations import CitationChecker, citation_for
from assistant.extractive import render_extractive, select_sentences
from assistant.guard import is_injection
from assistant.language import detect
from assistant.llm import LLMConfigError, ModelUnavailableError
from assistant.models import ModelError
from assistant.retrieval import LangChainRetriever
from assistant.service import Service
from assistant.store import Filters
from assistant.types import Answer, AnswerSentence, Citation, Passage

History = Sequence[tuple[str, str]]
_MARKERS = re.compile(r"\[\d+\]")
_FOLLOW_UP_STARTS = ("en ", "ook ", "wat ", "die ", "dat ", "and ", "what about", "en?", "hoe zit")

log = logging.getLogger("ivb.answer")


class AnswerPipeline:
    """Answers questions over one service's store.

    Args:
        service: the process-wide store, retriever and models.
    """

    def __init__(self, service: Service) -> None:
        self.service = service
        self.settings = service.settings
        self._models: dict[str, Any] = {}

    # -- model access ----------------------------------------------------------------
    def chat_model(self, backend: str) -> Any | None:
        """The LangChain chat model of a backend, created once (None for extractive)."""
        if backend == "extractive":
            return None
        if backend not in self._models:
            from assistant.llm import make_chat_model

            self._models[backend] = make_chat_model(self.settings, backend)
        return self._models[backend]

    def model_name(self, backend: str) -> str:
        from assistant.llm import model_name

        return model_name(self.settings, backend)

    def as_runnable(self) -> RunnableGenerator:
        """The pipeline as a LangChain runnable: input {"question", "history"?, ...},
        streams text pieces and ends with the Answer object."""

        def run(inputs: Iterator[dict[str, Any]]) -> Iterator[Any]:
            for item in inputs:
                yield from self.stream(**item)

        return RunnableGenerator(run)

    # -- the pipeline ----------------------------------------------------------------
    def ask(self, question: str, **kwargs: Any) -> Answer:
        """Answer a question; see `stream` for the arguments."""
        answer = None
        for piece in self.stream(question, **kwargs):
            if isinstance(piece, Answer):
                answer = piece
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        history: History = (),
        audience: str | None = None,
        municipality: str | None = None,
        doc_type: str | None = None,
        backend: str | None = None,
        k: int | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yield text pieces as they are generated, then the checked Answer.

        Args:
            question: the user's question.
            history: earlier (question, answer) turns of this conversation.
            audience: "raad" (precise) or "inwoner" (plain language, B1).
            municipality: restrict to this municipality's and the joint documents.
            doc_type: restrict to one document type.
            backend: "local", "openai" or "extractive" (settings.llm_backend when None).
            k: number of passages.
            date_from: only documents dated on or after this ISO date (or year).
            date_to: only documents dated on or before this ISO date (or year).
        """
        t_start = time.perf_counter()
        timings: dict[str, float] = {}
        backend = backend or self.settings.llm_backend
        audience = audience or self.settings.audience
        language = detect(question)
        answer = Answer(question=question, text="", language=language, audience=audience,
                        backend=backend, model=self.model_name(backend))  # fmt: skip

        if is_injection(question):
            yield self._refuse(answer, "injection", timings, t_start)
            return

        t = time.perf_counter()
        standalone = self._standalone(question, history, backend)
        answer.standalone_question = standalone
        timings["condense"] = time.perf_counter() - t

        t = time.perf_counter()
        retriever = LangChainRetriever(
            retriever=self.service.retriever,
            k=k or self.settings.top_k,
            filters=Filters(
                municipality=municipality, doc_type=doc_type, date_from=date_from, date_to=date_to
            ),
        )
        docs = retriever.invoke(standalone)
        passages: list[Passage] = [d.metadata["passage"] for d in docs]
        # Passages that carry instructions are data the model must never see as such;
        # they are kept out of the answer (and listed nowhere as a source).
        passages = [p for p in passages if not is_injection(p.chunk.text)]
        answer.passages = passages
        timings["retrieve"] = time.perf_counter() - t

        verdict = assess(
            standalone, passages, language, self.settings,
            frequency=self.service.store.document_frequency,
            index_chunks=self.service.store.count_chunks,
        )  # fmt: skip
        if not verdict.answerable:
            yield self._refuse(answer, verdict.reason, timings, t_start)
            return

        checker = CitationChecker(
            self.service.retriever.embedder,
            self.settings.support_threshold,
            self.settings.unsupported_sentences,
        )
        t = time.perf_counter()
        if backend == "extractive":
            # Retrieval used the standalone question; the sentences must answer the
            # question as asked (a follow-up names what it is about now).
            self._extractive(answer, question, passages)
            timings["generate"] = time.perf_counter() - t
            if answer.refused:
                yield self._refuse(answer, answer.refusal_reason, timings, t_start)
                return
            yield answer.text
        else:
            messages = prompts.answer_messages(
                question if not history else standalone, passages, audience, language,
                self.settings.llm_passage_chars, self.service.store.idf,
            )  # fmt: skip
            pieces: list[str] = []
            first_token = None
            failure = None
            try:
                for chunk in self.chat_model(backend).stream(messages):
                    piece = getattr(chunk, "content", chunk)
                    if not isinstance(piece, str) or not piece:
                        continue
                    if first_token is None:
                        first_token = time.perf_counter() - t
                    pieces.append(piece)
                    yield piece
            except (LLMConfigError, ModelError):
                raise
            except Exception as exc:
                # The model's process died, stalled or is not running: this question gets
                # the checked quotes with a notice; the process is restarted elsewhere.
                failure = "model_failed"
                if type(exc) is ModelUnavailableError and not pieces:
                    failure = "model_unavailable"  # not running: it was never asked
                log.warning("generation failed (%s): %s", backend, exc)
            timings["first_token"] = first_token or 0.0
            timings["generate"] = time.perf_counter() - t
            raw = "".join(pieces).strip()
            # Retrieval has already decided that the documents speak to the question. When
            # the model gives nothing usable (a bare "[1]"), declines anyway (the 1.5B
            # model declined 15 of 52 answerable gold questions), or writes sentences the
            # citation check cannot support, the code quotes the supporting sentences
            # itself; the extractive checks may still refuse.
            fallback = ""
            if failure:
                fallback = failure
                answer.notice = prompts.model_notice(language, failed=failure == "model_failed")
            elif not words(_MARKERS.sub(" ", raw)):
                fallback = "empty"
            elif any(m in raw.lower() for m in prompts.REFUSAL_MARKERS):
                fallback = "model_declined"
            else:
                t = time.perf_counter()
                text, sentences, citations = checker.check(raw, passages, language)
                timings["cite"] = time.perf_counter() - t
                if not _answers(standalone, sentences):
                    fallback = "unsupported"
                else:
                    answer.text, answer.sentences, answer.citations = text, sentences, citations
            if fallback:
                self._extractive(answer, question, passages)
                answer.backend = f"{backend}+extractive"
                answer.fallback = fallback
                if answer.refused:
                    yield self._refuse(answer, answer.refusal_reason, timings, t_start)
                    return
        timings["total"] = time.perf_counter() - t_start
        answer.timings = timings
        yield answer

    def _standalone(self, question: str, history: History, backend: str) -> str:
        """A follow-up rewritten as a standalone question (LLM when there is one)."""
        if not history:
            return question
        model = self.chat_model(backend) if backend != "extractive" else None
        if model is not None:
            try:
                msg = model.invoke(prompts.condense_messages(history, question))
                text = str(getattr(msg, "content", "")).strip().splitlines()
                candidate = text[0].strip().strip('"') if text else ""
                if 5 < len(candidate) <= 3 * len(question) + 120 and not is_injection(candidate):
                    return candidate
            except Exception:
                pass
        last_question = history[-1][0]
        lowered = question.lower().strip()
        if len(lowered.split()) <= 6 or lowered.startswith(_FOLLOW_UP_STARTS):
            return f"{question} ({last_question})"
        return question

    def _extractive(self, answer: Answer, question: str, passages: list[Passage]) -> None:
        chosen = select_sentences(
            question, passages, self.service.retriever.embedder, idf=self.service.store.idf
        )
        if not _answers(question, [AnswerSentence(text=c.span.text) for c in chosen]):
            answer.refused, answer.refusal_reason = True, "unsupported"
            return
        citations: dict[str, Citation] = {}
        sentences = []
        for c in chosen:
            chunk = passages[c.passage].chunk
            if chunk.id not in citations:
                citations[chunk.id] = citation_for(
                    len(citations) + 1, passages[c.passage], c.span.text
                )
            sentences.append(
                AnswerSentence(text=c.span.text, citations=[citations[chunk.id].n], support=1.0)
            )
        answer.citations = list(citations.values())
        answer.sentences = sentences
        answer.text = render_extractive(
            [(s.text, s.citations[0]) for s in sentences], answer.language
        )

    def _refuse(
        self, answer: Answer, reason: str, timings: dict[str, float], t_start: float
    ) -> Answer:
        answer.refused = True
        answer.refusal_reason = reason
        answer.text = prompts.refusal_text(answer.language, injection=reason == "injection")
        answer.citations = []
        timings["total"] = time.perf_counter() - t_start
        answer.timings = timings
        return answer


def _answers(question: str, sentences: Sequence[AnswerSentence]) -> bool:
    """At least one supported sentence, holding an amount, a quantity or contact details
    where the question asks for one."""
    supported = [s.text for s in sentences if s.supported]
    return bool(supported) and answers_kind(question, supported)
