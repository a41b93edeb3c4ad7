"""Prometheus metrics of one process: questions, refusals, stage latencies, the local
model's line and ingestion.

Every replica counts only what it did itself and shows it on its own ``/metrics``
(``web.ops``); Prometheus scrapes each replica and sums. The metrics live in
prometheus-client's default registry, with its process and platform collectors.

Metric names (counters get ``_total`` from prometheus-client):

- ``ivb_questions_total{backend}``: answered questions, refusals included, by the backend
  asked for (``local``, ``openai``, ``extractive``).
- ``ivb_refusals_total{reason}``: refusals by ``RefusalReason`` value.
- ``ivb_fallbacks_total{reason}``: LLM answers replaced by quotes, by ``FallbackReason``.
- ``ivb_stage_seconds{stage}``: a histogram per pipeline stage (``condense``,
  ``retrieve``, ``generate``, ``first_token``, ``cite``, ``total``), from the Answer's
  own timings.
- ``ivb_model_queue_length``: requests waiting behind the one the local model answers;
  ``ivb_model_busy``: 1 while it answers one.
- ``ivb_ingest_documents_total{outcome}``: documents ``added``, ``replaced``,
  ``unchanged``, ``removed``, ``skipped`` (files), ``failed`` (files);
  ``ivb_ingest_chunks_embedded_total``; ``ivb_ingest_seconds`` (a histogram per run).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:
    from assistant.model_line import ModelLine
    from assistant.types import Answer

# Seconds: a retrieval takes milliseconds, a CPU LLM's answer up to minutes.
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160)
INGEST_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
INGEST_OUTCOMES = ("added", "replaced", "unchanged", "removed", "skipped", "failed")

QUESTIONS = Counter(
    "ivb_questions", "Questions answered (refusals included), by the backend asked for", ["backend"]
)
REFUSALS = Counter("ivb_refusals", "Questions refused, by reason", ["reason"])
FALLBACKS = Counter(
    "ivb_fallbacks", "LLM answers replaced by quoted sentences, by reason", ["reason"]
)
STAGE_SECONDS = Histogram(
    "ivb_stage_seconds",
    "Seconds per answer pipeline stage (total: the whole answer)",
    ["stage"],
    buckets=STAGE_BUCKETS,
)
MODEL_QUEUE = Gauge(
    "ivb_model_queue_length", "Requests waiting for the local model behind the one it answers"
)
MODEL_BUSY = Gauge("ivb_model_busy", "1 while the local model answers a request")
INGEST_DOCUMENTS = Counter(
    "ivb_ingest_documents", "Documents and files handled by ingest runs, by outcome", ["outcome"]
)
INGEST_CHUNKS = Counter("ivb_ingest_chunks_embedded", "Chunks embedded by ingest runs")
INGEST_SECONDS = Histogram("ivb_ingest_seconds", "Seconds per ingest run", buckets=INGEST_BUCKETS)

# Every outcome and the known label values show from the start (as 0), so that a rate()
# over a fresh replica has a series to work on.
for _outcome in INGEST_OUTCOMES:
    INGEST_DOCUMENTS.labels(outcome=_outcome)


def observe_answer(backend: str, answer: Answer) -> None:
    """Count one finished answer and its stage timings.

    Args:
        backend: the backend the question asked for ("local", "openai", "extractive").
        answer: the finished Answer (refused, refusal_reason, fallback, timings in s).
    """
    QUESTIONS.labels(backend=backend).inc()
    if answer.refused:
        REFUSALS.labels(reason=str(answer.refusal_reason) or "unknown").inc()
    if answer.fallback:
        FALLBACKS.labels(reason=str(answer.fallback)).inc()
    for stage, seconds in answer.timings.items():
        STAGE_SECONDS.labels(stage=stage).observe(max(0.0, float(seconds)))


def observe_ingest(report: Any) -> None:
    """Count one finished ingest run.

    Args:
        report: an ``ingest.pipeline.IngestReport`` (lists added, updated, unchanged,
            removed, skipped, failed; chunks_embedded; seconds).
    """
    counts = {
        "added": len(report.added),
        "replaced": len(report.updated),
        "unchanged": len(report.unchanged),
        "removed": len(report.removed),
        "skipped": len(report.skipped),
        "failed": len(report.failed),
    }
    for outcome, n in counts.items():
        if n:
            INGEST_DOCUMENTS.labels(outcome=outcome).inc(n)
    if report.chunks_embedded:
        INGEST_CHUNKS.inc(report.chunks_embedded)
    INGEST_SECONDS.observe(max(0.0, float(report.seconds)))


def observe_removed(n: int) -> None:
    """Count documents removed outside an ingest run (a staff delete)."""
    if n:
        INGEST_DOCUMENTS.labels(outcome="removed").inc(n)


def watch_model_line(line: ModelLine) -> None:
    """Report this line's length as ``ivb_model_queue_length`` and ``ivb_model_busy``,
    read at every scrape (the last line watched wins: one page per process).

    Args:
        line: the local model's line (``web.questions.QuestionHandlers.local_line``).
    """
    ref = weakref.ref(line)

    def waiting() -> float:
        current = ref()
        return float(current.waiting) if current is not None else 0.0

    def busy() -> float:
        current = ref()
        return 1.0 if current is not None and len(current) > 0 else 0.0

    MODEL_QUEUE.set_function(waiting)
    MODEL_BUSY.set_function(busy)
