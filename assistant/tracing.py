"""Optional OpenTelemetry traces of the answer pipeline, sent over OTLP/HTTP only when
configured.

Nothing is traced and nothing leaves the machine unless an endpoint is set: the setting
``otel_endpoint`` (``IVB_OTEL_ENDPOINT``, e.g. ``http://otel-collector:4318``) or the
standard ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_ENDPOINT``
variables; ``OTEL_SDK_DISABLED=true`` switches it off again. The packages are an
optional extra (``pip install '.[otel]'``); an endpoint without them logs one warning
and traces nothing.

Each answer becomes one trace: a root span ``ivb.answer`` over the whole answer and one
child span per stage that ran (``ivb.condense``, ``ivb.retrieve``, ``ivb.generate``,
``ivb.cite``), made when the answer is finished from the times the pipeline recorded, so
the spans never depend on which thread ran which part of a streamed answer. The spans
carry the backend, the refusal reason, the fallback and the passage count, never the
question or the answer text (those may hold personal data).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from assistant.settings import Settings
from assistant.types import Answer

log = logging.getLogger("ivb.tracing")

SERVICE_NAME = "ivb-assistent"
# Timings that are part of a stage rather than a stage of their own.
_NOT_SPANS = frozenset({"total", "first_token"})

_lock = threading.Lock()
# endpoint ("" = from the OTEL_* variables) → (provider, tracer), or None when not installed
_tracers: dict[str, tuple[Any, Any] | None] = {}


def endpoint(settings: Settings) -> str | None:
    """Where traces go: the OTLP/HTTP base URL, "" when only the standard OTEL_* variables
    name one, or None when tracing is off (the default)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if settings.otel_endpoint:
        return settings.otel_endpoint.rstrip("/")
    if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    ):
        return ""
    return None


def tracer(settings: Settings) -> Any | None:
    """The tracer for these settings, made once per endpoint; None when tracing is off or
    the optional packages are missing. No exporter exists before this finds an endpoint.

    Args:
        settings: otel_endpoint (and the OTEL_* environment).
    """
    made = _made(settings)
    return made[1] if made else None


def _made(settings: Settings) -> tuple[Any, Any] | None:
    where = endpoint(settings)
    if where is None:
        return None
    with _lock:
        if where not in _tracers:
            _tracers[where] = _make_tracer(where)
        return _tracers[where]


def _make_tracer(where: str) -> tuple[Any, Any] | None:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        log.warning("tracing configured but not installed (pip install '.[otel]'): %s", exc)
        return None
    # Our own provider, not the global one: no other library's spans go along.
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    exporter = OTLPSpanExporter(endpoint=f"{where}/v1/traces") if where else OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    log.info("tracing: OTLP/HTTP to %s", where or "the OTEL_EXPORTER_OTLP_* endpoint")
    return provider, provider.get_tracer("ivb.answer")


def flush(settings: Settings, timeout_s: float = 5.0) -> bool:
    """Send the spans still buffered now (tests, shutdown); True when tracing is off or
    everything was sent."""
    made = _made(settings)
    return True if made is None else bool(made[0].force_flush(int(timeout_s * 1000)))


def trace_answer(
    settings: Settings,
    answer: Answer,
    started: float,
    stage_ends: Mapping[str, float],
) -> None:
    """Emit one finished answer as a trace (a no-op when tracing is off).

    Args:
        settings: where traces go (see `endpoint`).
        answer: the finished Answer; its timings (s) give each stage's length.
        started: time.perf_counter() when the answer started.
        stage_ends: time.perf_counter() when each stage in answer.timings ended.
    """
    found = tracer(settings)
    if found is None:
        return
    try:
        _emit(found, answer, started, stage_ends)
    except Exception as exc:  # tracing must never cost an answer
        log.warning("trace not recorded: %s", exc)


def _emit(found: Any, answer: Answer, started: float, stage_ends: Mapping[str, float]) -> None:
    from opentelemetry import trace

    now_perf, now_ns = time.perf_counter(), time.time_ns()

    def wall_ns(perf: float) -> int:
        return now_ns - int((now_perf - perf) * 1e9)

    root = found.start_span(
        "ivb.answer",
        start_time=wall_ns(started),
        attributes={
            "ivb.backend": answer.backend,
            "ivb.audience": answer.audience,
            "ivb.language": answer.language,
            "ivb.refused": answer.refused,
            "ivb.refusal_reason": str(answer.refusal_reason),
            "ivb.fallback": str(answer.fallback),
            "ivb.passages": len(answer.passages),
            "ivb.citations": len(answer.citations),
        },
    )
    parent = trace.set_span_in_context(root)
    for stage, seconds in answer.timings.items():
        if stage in _NOT_SPANS or stage not in stage_ends:
            continue
        end = stage_ends[stage]
        attributes: dict[str, Any] = {}
        if stage == "generate" and "first_token" in answer.timings:
            attributes["ivb.first_token_s"] = float(answer.timings["first_token"])
        span = found.start_span(
            f"ivb.{stage}",
            context=parent,
            start_time=wall_ns(end - float(seconds)),
            attributes=attributes,
        )
        span.end(end_time=wall_ns(end))
    root.end(end_time=wall_ns(started + float(answer.timings.get("total", 0.0))))
