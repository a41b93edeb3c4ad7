"""The answer pipeline, in stages read top to bottom by `AnswerPipeline.stream`:

guard → condense → retrieve → assess → generate (LLM) or extract (no LLM) → check
citations → finish.

What is known is decided by retrieval (a similarity threshold), what is said is checked
by code (citations.py). The LLM only phrases; when it is absent, or gives nothing the
checks accept, the extractive backend quotes the best sentences instead. The checks
(guard, answerability, answer kinds) report a `RefusalReason`; this module alone decides
to refuse.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableGenerator

from assistant import guard, metrics, prompts, tracing
from assistant.analysis import words
from assistant.answer_kinds import answers_kind, is_attached, kind_gap
from assistant.answerability import assess
from assistant.citations import CitationChecker, citation_for
from assistant.extractive import best_attachment, render_extractive, select_sentences
from assistant.llm import LLMConfigError, ModelUnavailableError
from assistant.model_files import ModelError
from assistant.question import Question
from assistant.service import Service
from assistant.store import Filters
from assistant.types import (
    Answer,
    AnswerSentence,
    Citation,
    FallbackReason,
    RefusalReason,
)

log = logging.getLogger("ivb.answer")

History = Sequence[tuple[str, str]]
_MARKERS = re.compile(r"\[\d+\]")
_FOLLOW_UP_STARTS = ("en ", "ook ", "wat ", "die ", "dat ", "and ", "what about", "en?", "hoe zit")


class StageTimings(dict[str, float]):
    """Seconds per stage, as the stages record them (``timings[stage] = seconds`` when a
    stage ends), that also keep when each stage ended (perf_counter), so that a trace can
    place each stage in time without the stages doing anything more."""

    def __init__(self) -> None:
        super().__init__()
        self.ended: dict[str, float] = {}

    def __setitem__(self, stage: str, seconds: float) -> None:
        self.ended[stage] = time.perf_counter()
        super().__setitem__(stage, seconds)


@dataclass
class AnswerRun:
    """One question on its way through the stages: what each stage adds for the next.

    Attributes:
        asked: the question as the user asked it (its language is the answer's).
        standalone: the question rewritten to stand alone (``asked`` without history).
        history: earlier (question, answer) turns of the conversation.
        backend: "local", "openai" or "extractive".
        k: how many passages to retrieve.
        answer: the answer being built (passages, text, citations, refusal).
        started: perf_counter() at the start, for the total time.
        timings: seconds per stage, in the order the stages ran.
        generated: the model's whole text (LLM backends, after `_generate`).
        failure: why the model gave no whole answer (its process died, stalled or was not
            running), set by `_generate`.
        notice_language: the language of the fixed texts (refusal, notices): the page's
            interface language when one was given, else the question's.
        gap: what the documents say instead of the count or amount asked for ("De
            documenten noemen het aantal camera's, maar geen aantal boa's."), set by `_quote`.
    """

    asked: Question
    standalone: Question
    history: History
    backend: str
    k: int
    answer: Answer
    started: float
    timings: StageTimings = field(default_factory=StageTimings)
    generated: str = ""
    failure: FallbackReason | None = None
    notice_language: str | None = None
    gap: str = ""


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
        notice_language: str | None = None,
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
            notice_language: the language of the refusal and notice texts (the web page's
                interface language); the question's language when None.
        """
        filters = Filters(
            municipality=municipality, doc_type=doc_type, date_from=date_from, date_to=date_to
        )
        run = self._start(question, history, audience, backend, k, filters)
        run.notice_language = notice_language
        if reason := self._guard(run):
            yield self._refuse(run, reason)
            return
        self._condense(run)
        self._retrieve(run)
        if reason := self._assess(run):
            yield self._refuse(run, reason)
            return
        if run.backend == "extractive":
            if reason := self._extract(run):
                yield self._refuse(run, reason)
                return
            yield run.answer.text
        else:
            yield from self._generate(run)
            fallback = self._check_citations(run)
            if fallback and (reason := self._fall_back(run, fallback)):
                yield self._refuse(run, reason)
                return
        yield self._finish(run)

    # -- the stages, in order ---------------------------------------------------------
    def _start(
        self,
        question: str,
        history: History,
        audience: str | None,
        backend: str | None,
        k: int | None,
        filters: Filters,
    ) -> AnswerRun:
        """Read the question once and open its answer."""
        started = time.perf_counter()
        backend = backend or self.settings.llm_backend
        asked = Question.read(question, filters=filters)
        answer = Answer(question=question, text="", language=asked.language,
                        audience=audience or self.settings.audience,
                        backend=backend, model=self.model_name(backend))  # fmt: skip
        return AnswerRun(asked, asked, history, backend, k or self.settings.top_k, answer, started)

    def _guard(self, run: AnswerRun) -> RefusalReason | None:
        """Requests to override or reveal the instructions are refused before anything."""
        return guard.check(run.asked.text)

    def _condense(self, run: AnswerRun) -> None:
        """A follow-up becomes a standalone question (the question itself without history)."""
        t = time.perf_counter()
        text = self._standalone(run.asked.text, run.history, run.backend)
        run.standalone = run.asked.rephrased(text)
        run.answer.standalone_question = text
        run.timings["condense"] = time.perf_counter() - t

    def _retrieve(self, run: AnswerRun) -> None:
        """The k best passages for the standalone question, without any that carries
        instructions: those are data the model must never see as such, and are listed
        nowhere as a source."""
        t = time.perf_counter()
        passages = self.service.retriever.search(run.standalone, k=run.k)
        run.answer.passages = [p for p in passages if not guard.is_injection(p.chunk.text)]
        run.timings["retrieve"] = time.perf_counter() - t

    def _assess(self, run: AnswerRun) -> RefusalReason | None:
        """Whether the passages can answer at all, decided before any text is written."""
        verdict = assess(
            run.standalone, run.answer.passages, run.asked.language, self.settings,
            frequency=self.service.store.document_frequency,
            index_chunks=self.service.store.count_chunks,
        )  # fmt: skip
        return verdict.reason

    def _extract(self, run: AnswerRun) -> RefusalReason | None:
        """The extractive backend: quote the sentences that answer the question as asked
        (retrieval used the standalone question; a follow-up names what it is about now)."""
        t = time.perf_counter()
        reason = self._quote(run, run.asked)
        run.timings["generate"] = time.perf_counter() - t
        return reason

    def _generate(self, run: AnswerRun) -> Iterator[str]:
        """The LLM stage: stream the model's answer to the focused passages, piece by
        piece; its whole text is kept in ``run.generated`` for the citation check."""
        t = time.perf_counter()
        messages = prompts.answer_messages(
            run.standalone, run.answer.passages, run.answer.audience, run.asked.language,
            self.settings.llm_passage_chars, self.service.store.idf,
        )  # fmt: skip
        pieces: list[str] = []
        first_token = None
        try:
            for chunk in self.chat_model(run.backend).stream(messages):
                piece = getattr(chunk, "content", chunk)
                if not isinstance(piece, str) or not piece:
                    continue
                if first_token is None:
                    first_token = time.perf_counter() - t
                pieces.append(piece)
                yield piece
        except (LLMConfigError, ModelError):
            raise  # configuration: the command or the page says what to set
        except Exception as exc:
            # The model's process died, stalled or is not running: this question gets the
            # checked quotes with a notice; the supervisor restarts the process.
            log.warning("generation failed (%s): %s", run.backend, exc)
            run.failure = FallbackReason.MODEL_FAILED
            if type(exc) is ModelUnavailableError and not pieces:
                run.failure = FallbackReason.MODEL_UNAVAILABLE  # it was never asked
        run.timings["first_token"] = first_token or 0.0
        run.timings["generate"] = time.perf_counter() - t
        run.generated = "".join(pieces).strip()

    def _check_citations(self, run: AnswerRun) -> FallbackReason | None:
        """Keep the model's sentences that the passages support, with checked citations;
        or say why the code must quote instead.

        Retrieval has already decided that the documents speak to the question. When the
        model gives nothing usable (a bare "[1]"), declines anyway (the 1.5B model
        declined 15 of 52 answerable gold questions), or writes sentences the citation
        check cannot support, the code quotes the supporting sentences itself.
        """
        if run.failure:
            run.answer.notice = prompts.model_notice(
                run.notice_language or run.asked.language,
                failed=run.failure == FallbackReason.MODEL_FAILED,
            )
            return run.failure
        raw = run.generated
        if not words(_MARKERS.sub(" ", raw)):
            return FallbackReason.EMPTY
        if prompts.model_declines(raw):
            return FallbackReason.MODEL_DECLINED
        t = time.perf_counter()
        checker = CitationChecker(
            self.service.retriever.embedder,
            self.settings.support_threshold,
            self.settings.unsupported_sentences,
        )
        text, sentences, citations = checker.check(raw, run.answer.passages, run.asked.language)
        run.timings["cite"] = time.perf_counter() - t
        if _unanswered(run.standalone, sentences, self.settings.min_attachment):
            return FallbackReason.UNSUPPORTED
        run.answer.text, run.answer.sentences, run.answer.citations = text, sentences, citations
        return None

    def _fall_back(self, run: AnswerRun, fallback: FallbackReason) -> RefusalReason | None:
        """Quote the supporting sentences instead of the model's text (which may still
        refuse, for the same reasons as the extractive backend)."""
        reason = self._quote(run, run.asked)
        run.answer.backend = f"{run.backend}+extractive"
        run.answer.fallback = fallback
        return reason

    def _finish(self, run: AnswerRun) -> Answer:
        """The answer with its total time, counted in the metrics and traced (when
        configured)."""
        run.timings["total"] = time.perf_counter() - run.started
        run.answer.timings = dict(run.timings)
        metrics.observe_answer(run.backend, run.answer)
        tracing.trace_answer(self.settings, run.answer, run.started, run.timings.ended)
        return run.answer

    def _refuse(self, run: AnswerRun, reason: RefusalReason) -> Answer:
        """The decision to refuse: the fixed text in the question's language, no sources."""
        answer = run.answer
        answer.refused = True
        answer.refusal_reason = reason
        answer.text = prompts.refusal_text(
            run.notice_language or answer.language, injection=reason == RefusalReason.INJECTION
        )
        if reason == RefusalReason.UNSUPPORTED and run.gap:
            answer.text = f"{run.gap}\n\n{answer.text}"
        answer.citations = []
        return self._finish(run)

    # -- helpers of the stages ----------------------------------------------------------
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
                if 5 < len(candidate) <= 3 * len(question) + 120 and not guard.is_injection(
                    candidate
                ):
                    return candidate
            except Exception:
                pass
        last_question = history[-1][0]
        lowered = question.lower().strip()
        if len(lowered.split()) <= 6 or lowered.startswith(_FOLLOW_UP_STARTS):
            return f"{question} ({last_question})"
        return question

    def _quote(self, run: AnswerRun, question: Question) -> RefusalReason | None:
        """Fill the answer with the passages' best sentences for the question, each cited;
        or the reason none answers it (the answer is then left as it was, and ``run.gap``
        says what the documents hold instead where that helps)."""
        answer = run.answer
        passages = answer.passages
        chosen = select_sentences(
            question, passages, self.service.retriever.embedder, idf=self.service.store.idf
        )
        texts = [c.span.text for c in chosen]
        if reason := _unanswered(question, [AnswerSentence(text=t) for t in texts]):
            return reason
        floor = self.settings.min_attachment
        if floor > 0 and best_attachment(question, passages, self.service.store.idf) < floor:
            found = kind_gap(question, texts)
            run.gap = (
                prompts.kind_gap_text(run.notice_language or question.language, *found)
                if found
                else ""
            )
            return RefusalReason.UNSUPPORTED
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
        return None


def _unanswered(
    question: Question, sentences: Sequence[AnswerSentence], min_attachment: float = 0.0
) -> RefusalReason | None:
    """UNSUPPORTED unless at least one supported sentence holds an amount, a quantity or
    contact details where the question asks for one (and, with ``min_attachment`` > 0, one
    about the question's subject: answer_kinds.is_attached)."""
    supported = [s.text for s in sentences if s.supported]
    if not supported or not answers_kind(question, supported):
        return RefusalReason.UNSUPPORTED
    if min_attachment > 0 and not is_attached(question, supported, None, min_attachment):
        return RefusalReason.UNSUPPORTED
    return None
