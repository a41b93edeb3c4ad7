"""The answer pipeline, in stages read top to bottom by `AnswerPipeline.stream`:

guard → condense → retrieve → assess → choose sentences → phrase them (LLM) or quote them
(no LLM) → check citations → finish.

What is known is decided by retrieval (a similarity threshold), what answers is chosen by
code (the extractive sentence selection), and what is said is checked by code
(citations.py). The LLM only phrases the chosen sentences; when it is absent, or gives
nothing the checks accept, the chosen sentences are quoted instead. The checks (guard,
answerability, answer kinds) report a `RefusalReason`; this module alone decides to
refuse, before any model is called.
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
from assistant.analysis import analyse, words
from assistant.answer_kinds import answers_kind, is_attached, kind_gap
from assistant.answerability import assess, names, unanswered_names
from assistant.citations import (
    CitationChecker,
    citation_for,
    dropped_tokens,
    literal_support,
    with_quotes,
)
from assistant.extractive import (
    Candidate,
    answer_scope,
    best_attachment,
    carrying,
    render_extractive,
    select_sentences,
)
from assistant.language import detect
from assistant.llm import LLMConfigError, ModelUnavailableError
from assistant.model_files import ModelError
from assistant.question import Question, content_terms
from assistant.service import Service
from assistant.store import Filters
from assistant.types import (
    Answer,
    AnswerSentence,
    Citation,
    FallbackReason,
    Passage,
    RefusalReason,
)

log = logging.getLogger("ivb.answer")

History = Sequence[tuple[str, str]]
_MARKERS = re.compile(r"\[\d+\]")
PHRASE_TOKENS_SPARE = 48  # tokens a phrasing may use beyond its sources' length
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
        chosen: the sentences that answer, chosen by code (after `_choose`), in reading
            order; the LLM backends phrase only these.
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
    chosen: list[Candidate] = field(default_factory=list)
    generated: str = ""
    failure: FallbackReason | None = None
    notice_language: str | None = None
    gap: str = ""

    @property
    def about(self) -> Question:
        """The question the sentences are chosen for: the one asked, or the previous
        question about a follow-up's new name ("En die van Urk?", `standalone`); a
        follow-up in brackets names what it is about itself."""
        if self.standalone.text.startswith(self.asked.text):
            return self.asked
        return self.standalone


class AnswerPipeline:
    """Answers questions over one service's store.

    Args:
        service: the process-wide store, retriever and models.
    """

    def __init__(self, service: Service) -> None:
        self.service = service
        self.settings = service.settings
        self._models: dict[str, Any] = {}
        # What the documents are about, as the refusals name it (the IVB's unless configured).
        self.scope = prompts.Scope.configured(
            self.settings.scope_subject,
            self.settings.scope_suggestions,
            self.settings.scope_contact,
        )

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
        if reason := self._choose(run):
            yield self._refuse(run, reason)  # decided by code: no model is asked
            return
        if run.backend == "extractive":
            self._extract(run)
            yield run.answer.text
        else:
            yield from self._generate(run)
            if fallback := self._check_citations(run):
                self._fall_back(run, fallback)
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
        text = standalone(run.asked.text, run.history)
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

    def _choose(self, run: AnswerRun) -> RefusalReason | None:
        """Choose the sentences that answer the question as asked (retrieval used the
        standalone question; a follow-up names what it is about now), or the reason none
        does: then every backend refuses, and no model is asked."""
        t = time.perf_counter()
        run.chosen = select_sentences(
            run.about, run.answer.passages, self.service.retriever.embedder,
            idf=self.service.store.idf,
        )  # fmt: skip
        run.timings["choose"] = time.perf_counter() - t
        texts = [c.span.text for c in run.chosen]
        if reason := _unanswered(run.about, [AnswerSentence(text=t) for t in texts]):
            return reason
        if reason := self._attachment_gap(run, texts):
            return reason
        return self._name_gap(run)

    def _name_gap(self, run: AnswerRun) -> RefusalReason | None:
        """UNSUPPORTED when the question names something (a party, a place, a system)
        and no chosen sentence that carries the answer has a chunk, heading or document
        naming any of it: the sentences were found for the question's other words
        (answerability.unanswered_names)."""
        if run.about.language != "nl" or not names(run.about.text):
            return None  # most questions name nothing: no index lookups on their path
        passages, floor = run.answer.passages, self.settings.min_attachment
        # Where a value is asked, the sentence that holds it must speak of the name.
        scopes = [answer_scope(passages[c.passage]) for c in carrying(run.chosen, floor)]
        store = self.service.store
        absent = unanswered_names(
            run.about.text, scopes, store.document_frequency, store.count_chunks()
        )
        return RefusalReason.UNSUPPORTED if absent else None

    def _attachment_gap(self, run: AnswerRun, texts: list[str]) -> RefusalReason | None:
        """UNSUPPORTED when no passage holds a value of the asked kind about the asked
        subject (below settings.min_attachment); ``run.gap`` then says what the chosen
        sentences hold instead, where that helps."""
        question, floor = run.about, self.settings.min_attachment
        passages = run.answer.passages
        if floor <= 0 or best_attachment(question, passages, self.service.store.idf) >= floor:
            return None
        found = kind_gap(question, texts)
        language = run.notice_language or question.language
        run.gap = prompts.kind_gap_text(language, *found) if found else ""
        return RefusalReason.UNSUPPORTED

    def _extract(self, run: AnswerRun) -> None:
        """The extractive backend: quote the chosen sentences."""
        t = time.perf_counter()
        self._quote(run.answer, run.chosen)
        run.timings["generate"] = time.perf_counter() - t

    def _generate(self, run: AnswerRun) -> Iterator[str]:
        """The LLM stage: stream the model's phrasing of the chosen sentences, piece by
        piece; its whole text is kept in ``run.generated`` for the citation check."""
        t = time.perf_counter()
        passages = run.answer.passages
        messages = prompts.phrase_messages(
            run.standalone.text,
            [(c.span.text, passages[c.passage].chunk.page_label) for c in run.chosen],
            run.answer.audience, run.asked.language,
        )  # fmt: skip
        pieces: list[str] = []
        first_token = None
        try:
            # A phrasing is about as long as what it phrases: a cap on its tokens keeps a
            # model that runs on from holding the one model line (≈3.5 characters a token).
            chars = sum(len(c.span.text) for c in run.chosen)
            cap = min(self.settings.llm_max_tokens, chars // 3 + PHRASE_TOKENS_SPARE)
            stream = self.chat_model(run.backend).stream(messages, extra_body={"max_tokens": cap})
            for chunk in stream:
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
        """Keep the model's sentences that the chosen sentences support, with checked
        citations of those sentences' pages; or say why the code must quote instead.

        Code has already decided that the chosen sentences answer. So when the model gives
        nothing usable (a bare "[1]"), declines anyway, writes a Dutch sentence in words
        its sources do not use, or leaves out a number, date, name or quoted term the
        chosen sentences hold, the code quotes the chosen sentences: the answer is then
        exactly the extractive backend's, never worse.
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
        if detect(_MARKERS.sub(" ", raw)) != run.asked.language:
            # The prompt asks for the question's language; a reply in another ("Dronten
            # prioritiseerde de thema's ..." to an English question) is quoted instead.
            return FallbackReason.WRONG_LANGUAGE
        t = time.perf_counter()
        checker = CitationChecker(
            self.service.retriever.embedder,
            self.settings.support_threshold,
            self.settings.unsupported_sentences,
        )
        sources = _sentence_passages(run.answer.passages, run.chosen)
        language = run.asked.language
        text, sentences, citations = checker.check(raw, sources, language)
        if language == "nl":
            # The model rewords, it does not add: a Dutch sentence keeps its sources' words.
            # (one citation per chunk: its source is every chosen sentence of that chunk)
            chosen_in: dict[str, list[str]] = {}
            for src in sources:
                chosen_in.setdefault(src.chunk.id, []).append(src.chunk.text)
            quoted = {c.n: " ".join(chosen_in.get(c.chunk_id, [c.quote])) for c in citations}
            chunks = {p.chunk.id: p.chunk.text for p in run.answer.passages}
            around = {c.n: chunks.get(c.chunk_id, "") for c in citations}
            for s in sentences:
                source = " ".join(quoted[n] for n in s.citations)
                context = " ".join(around[n] for n in s.citations)
                if s.supported and not literal_support(s.text, source, context):
                    s.supported, s.citations = False, []
        citations = number_by_first_use(sentences, citations)
        text = checker.render(sentences)
        run.timings["cite"] = time.perf_counter() - t
        if _unanswered(run.about, sentences, self.settings.min_attachment):
            return FallbackReason.UNSUPPORTED
        kept = " ".join(s.text for s in sentences if s.supported)
        if dropped := dropped_tokens(kept, [c.span.text for c in run.chosen], language):
            log.info("phrasing dropped %s: quoting instead", sorted(dropped))
            return FallbackReason.KEY_FACT_DROPPED
        run.answer.text, run.answer.sentences, run.answer.citations = text, sentences, citations
        return None

    def _fall_back(self, run: AnswerRun, fallback: FallbackReason) -> None:
        """Quote the chosen sentences instead of the model's text."""
        self._quote(run.answer, run.chosen)
        run.answer.backend = f"{run.backend}+extractive"
        run.answer.fallback = fallback

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
            run.notice_language or answer.language,
            injection=reason == RefusalReason.INJECTION,
            scope=self.scope,
        )
        if reason == RefusalReason.UNSUPPORTED and run.gap:
            answer.text = f"{run.gap}\n\n{answer.text}"
        answer.citations = []
        return self._finish(run)

    # -- helpers of the stages ----------------------------------------------------------
    def _quote(self, answer: Answer, chosen: Sequence[Candidate]) -> None:
        """Fill the answer with the chosen sentences, quoted verbatim, each cited; a
        chunk's citation quotes every chosen sentence of it."""
        passages = answer.passages
        citations: dict[str, Citation] = {}
        sentences = []
        for c in chosen:
            chunk = passages[c.passage].chunk
            if chunk.id not in citations:
                citations[chunk.id] = citation_for(
                    len(citations) + 1, passages[c.passage], c.span.text
                )
            n = citations[chunk.id].n
            sentences.append(
                AnswerSentence(text=c.span.text, citations=[n], support=1.0,
                               quotes={n: [c.span.text]})
            )  # fmt: skip
        answer.citations = number_by_first_use(sentences, list(citations.values()))
        answer.sentences = sentences
        answer.text = render_extractive(
            [(s.text, s.citations[0]) for s in sentences], answer.language
        )


def standalone(question: str, history: History) -> str:
    """A follow-up made standalone by code. A follow-up that only swaps what the previous
    question named ("En die van Noordoostpolder?" after "Wat zijn de lokale speerpunten van
    Dronten?") is that question about the new name ("Wat zijn de lokale speerpunten van
    Noordoostpolder?"): the old name must not find the old answer again, and the
    sentences are chosen for the whole question. Any other short or elliptic question
    ("En hoe laat?") carries the previous question along in brackets, in that question's
    own standalone form, so a chain of follow-ups keeps its subject. Not by the model: on
    the IVB follow-ups the 1.5B model's rewrites lost the subject ("Hoe laat is dat?" →
    "Wat is de tijd?"), page MRR 0.52 against 1.00 for this rule (README, issue 14).

    Args:
        question: the question as asked.
        history: earlier (question as asked, answer) turns, oldest first.
    """
    previous = ""
    for asked, _answer in history:
        previous = _with_previous(asked, previous)
    return _with_previous(question, previous)


def _with_previous(question: str, previous: str) -> str:
    """The follow-up as the previous question (standalone) about its one new name, or with
    the previous question in brackets; the question itself when it is no follow-up."""
    lowered = question.lower().strip()
    if not previous or not (len(lowered.split()) <= 6 or lowered.startswith(_FOLLOW_UP_STARTS)):
        return question
    if swapped := _name_swapped(question, previous):
        return swapped
    return f"{question} ({previous})"


def _name_swapped(question: str, previous: str) -> str:
    """``previous`` with its one name replaced by the follow-up's one name, when the
    follow-up says nothing else ("En die van Urk?", "En in Urk?"); "" otherwise."""
    if "(" in previous:
        return ""  # a bracketed question has no single subject to swap
    new, old = names(question), names(previous)
    if len(new) != 1 or len(old) != 1 or new == old:
        return ""
    rest = set(content_terms(question)) - set(analyse(new[0], compounds=False))
    if rest:
        return ""  # the follow-up asks something of its own ("En wat doet Urk aan ...?")
    return re.sub(rf"\b{re.escape(old[0])}\b", new[0], previous, count=1)


def number_by_first_use(
    sentences: Sequence[AnswerSentence], citations: Sequence[Citation]
) -> list[Citation]:
    """The citations the supported sentences cite, numbered 1..n in the order the answer
    first cites them; each sentence's numbers (and the keys of its ``quotes``) are
    rewritten to match, ascending. A sentence the checks dropped leaves no gap ("[2]"
    without a "[1]"), no source that nothing cites, and no quote that nothing rests on, in
    either backend's answer: each citation quotes the spans its supported sentences rest
    on (citations.with_quotes).

    Args:
        sentences: the answer's sentences in reading order (changed in place).
        citations: every citation they may cite, by its current number.
    """
    new: dict[int, int] = {}
    for s in sentences:
        for n in s.citations if s.supported else ():
            new.setdefault(n, len(new) + 1)
    for s in sentences:
        s.citations = sorted({new[n] for n in s.citations if s.supported and n in new})
        s.quotes = {new[n]: q for n, q in s.quotes.items() if s.supported and n in new}
    by_n = {c.n: c for c in citations}
    return with_quotes([by_n[old].model_copy(update={"n": n}) for old, n in new.items()], sentences)


def _sentence_passages(passages: Sequence[Passage], chosen: Sequence[Candidate]) -> list[Passage]:
    """Each chosen sentence as a passage of its own (numbered as in the prompt): its
    chunk's id, document and page, with only the sentence as text. The citation check
    then supports an answer sentence only by a chosen sentence, and cites its page."""
    out = []
    for c in chosen:
        p = passages[c.passage]
        chunk = p.chunk.model_copy(update={"text": c.span.text})
        out.append(p.model_copy(update={"chunk": chunk, "context_before": "", "context_after": ""}))
    return out


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
