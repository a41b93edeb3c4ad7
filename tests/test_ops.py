"""Operations: /healthz, /readyz and /metrics (web.ops), the metrics the pipeline and
ingestion record (assistant.metrics), and the optional OTLP traces (assistant.tracing).

Real parts: the seeded store, the real embedding model, the answer pipeline, a real
Chroma server for the store check, a real OTLP/HTTP request to a collector on loopback.
The OpenAI-compatible endpoint the readiness check reaches is the test stand-in
(tests/fake_model_server.py), because only its /v1/models is asked.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from assistant import tracing
from assistant.answer import AnswerPipeline
from assistant.model_line import ModelLine
from assistant.service import Service
from assistant.settings import Settings
from tests.servers import chroma_server, free_port, wait_http
from web.ops import check_embedder, install_ops, readiness

ANSWERABLE = "Welke thema's hebben de drie gemeenten samen geprioriteerd?"
OFF_TOPIC = "Hoe hoog is de Mount Everest?"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def served_app(settings: Settings, service: Service, line: ModelLine | None = None) -> TestClient:
    app = FastAPI()
    install_ops(app, settings, service, line)
    return TestClient(app)


@pytest.fixture(scope="module")
def client(seeded_settings, seeded_service) -> Iterator[TestClient]:
    with served_app(seeded_settings, seeded_service) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def stand_in_llm(tmp_path_factory) -> Iterator[str]:
    """The OpenAI-compatible stand-in on loopback; yields its /v1 base URL."""
    port = free_port()
    script = Path(__file__).parent / "fake_model_server.py"
    proc = subprocess.Popen([sys.executable, str(script), "stall", "--port", str(port)])
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", 30, proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.kill()
        proc.wait()


def test_healthz_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ready_with_the_seeded_store(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["not_ready"] == []
    assert set(body["checks"]) == {"store", "embedding_model", "llm"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["llm"]["detail"].startswith("extractive")


def test_readyz_names_an_unreachable_llm(seeded_settings, seeded_service, stand_in_llm):
    dead = seeded_settings.model_copy(
        update={"llm_backend": "openai", "openai_base_url": f"http://127.0.0.1:{free_port()}/v1"}
    )
    with served_app(dead, seeded_service) as test_client:
        response = test_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["not_ready"] == ["llm"]
    assert "unreachable" in body["checks"]["llm"]["detail"]
    # The same replica with its LLM endpoint up is ready.
    alive = dead.model_copy(update={"openai_base_url": stand_in_llm})
    assert readiness(alive, seeded_service)["status"] == "ready"


def test_readyz_names_a_store_whose_chroma_is_gone(tmp_path, base_settings, embedder):
    with chroma_server(tmp_path / "chroma") as url:
        settings = base_settings.model_copy(
            update={"store_dir": tmp_path / "store", "chroma_url": url}
        )
        service = Service(settings, embedder)
        assert readiness(settings, service)["status"] == "ready"
    body = readiness(settings, service)  # the server stopped
    assert body["not_ready"] == ["store"], body
    assert not body["checks"]["store"]["ok"]


def test_embedding_model_not_loaded_is_not_ready(settings):
    service = Service(settings)  # no embedder given, none loaded yet
    check = check_embedder(service)
    assert not check.ok and check.detail == "loading"


def test_metrics_count_questions_refusals_and_stages(client, seeded_service):
    before = {
        "questions": sample("ivb_questions_total", backend="extractive"),
        "refusals": sum(
            sample("ivb_refusals_total", reason=r)
            for r in ("no_relevant_passage", "key_terms_missing", "unknown_terms", "unsupported")
        ),
        "retrieve": sample("ivb_stage_seconds_count", stage="retrieve"),
        "total": sample("ivb_stage_seconds_count", stage="total"),
    }
    pipeline = AnswerPipeline(seeded_service)
    answered = pipeline.ask(ANSWERABLE, backend="extractive")
    refused = pipeline.ask(OFF_TOPIC, backend="extractive")
    assert not answered.refused and refused.refused

    text = client.get("/metrics").text
    assert "ivb_questions_total" in text and "ivb_stage_seconds_bucket" in text
    assert sample("ivb_questions_total", backend="extractive") == before["questions"] + 2
    assert sample("ivb_refusals_total", reason=str(refused.refusal_reason)) >= 1
    refusals_now = sum(
        sample("ivb_refusals_total", reason=r)
        for r in ("no_relevant_passage", "key_terms_missing", "unknown_terms", "unsupported")
    )
    assert refusals_now == before["refusals"] + 1
    assert sample("ivb_stage_seconds_count", stage="retrieve") == before["retrieve"] + 2
    assert sample("ivb_stage_seconds_count", stage="total") == before["total"] + 2
    # The histogram holds the answer's own timing.
    assert sample("ivb_stage_seconds_sum", stage="total") >= answered.timings["total"]


def test_metrics_count_ingest_outcomes(tmp_path, settings, embedder, corpus_copy):
    from ingest.pipeline import ingest_paths, remove_documents

    def outcome(name: str) -> float:
        return sample("ivb_ingest_documents_total", outcome=name)

    start = {k: outcome(k) for k in ("added", "unchanged", "failed", "removed")}
    runs = sample("ivb_ingest_seconds_count")
    assert ingest_paths([corpus_copy], settings, embedder=embedder).ok
    assert outcome("added") == start["added"] + 1
    (corpus_copy / "kapot.pdf").write_bytes(b"%PDF-1.4 dit is geen pdf")
    report = ingest_paths([corpus_copy], settings, embedder=embedder)
    assert len(report.failed) == 1 and len(report.unchanged) == 1
    assert outcome("unchanged") == start["unchanged"] + 1
    assert outcome("failed") == start["failed"] + 1
    assert sample("ivb_ingest_seconds_count") == runs + 2
    assert remove_documents(report.unchanged, settings) == report.unchanged
    assert outcome("removed") == start["removed"] + 1


def test_model_queue_length_is_read_at_each_scrape(seeded_settings, seeded_service):
    line = ModelLine(max_waiting=8)
    with served_app(seeded_settings, seeded_service, line) as test_client:
        tickets = [line.join() for _ in range(3)]
        test_client.get("/metrics")
        assert sample("ivb_model_queue_length") == 2
        assert sample("ivb_model_busy") == 1
        for ticket in tickets:
            ticket.leave()
        assert sample("ivb_model_queue_length") == 0
        assert sample("ivb_model_busy") == 0


def test_http_requests_are_counted_by_route(client):
    before = sample("ivb_http_requests_total", method="GET", route="/healthz", status="200")
    client.get("/healthz")
    client.get("/no/such/page/123")
    assert (
        sample("ivb_http_requests_total", method="GET", route="/healthz", status="200")
        == before + 1
    )
    assert sample("ivb_http_requests_total", method="GET", route="unmatched", status="404") >= 1


# --------------------------------------------------------------------------- traces


def test_no_exporter_without_configuration(seeded_settings, seeded_service, monkeypatch):
    for key in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    made: list[object] = []
    monkeypatch.setattr(tracing, "_make_tracer", lambda where: made.append(where))
    assert seeded_settings.otel_endpoint is None
    assert tracing.endpoint(seeded_settings) is None
    answer = AnswerPipeline(seeded_service).ask(ANSWERABLE, backend="extractive")
    assert not answer.refused
    assert made == []  # no exporter was made, nothing could be sent
    assert tracing.tracer(seeded_settings) is None
    # The standard variable alone turns it on; OTEL_SDK_DISABLED turns it off again.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    assert tracing.endpoint(seeded_settings) == ""
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert tracing.endpoint(seeded_settings) is None


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_traces_of_the_stages_reach_a_configured_collector(seeded_settings, embedder):
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        settings = seeded_settings.model_copy(update={"otel_endpoint": url})
        answer = AnswerPipeline(Service(settings, embedder)).ask(ANSWERABLE, backend="extractive")
        assert tracing.flush(settings)
    finally:
        server.shutdown()
    assert _Collector.received, "no OTLP request arrived"
    spans = []
    for path, body in _Collector.received:
        assert path == "/v1/traces"
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)
    by_name = {s.name: s for s in spans}
    assert {"ivb.answer", "ivb.condense", "ivb.retrieve", "ivb.generate"} <= set(by_name)
    root = by_name["ivb.answer"]
    for name in ("ivb.condense", "ivb.retrieve", "ivb.generate"):
        child = by_name[name]
        assert child.parent_span_id == root.span_id and child.trace_id == root.trace_id
        assert root.start_time_unix_nano <= child.start_time_unix_nano
        assert child.end_time_unix_nano <= root.end_time_unix_nano
    retrieve = by_name["ivb.retrieve"]
    seconds = (retrieve.end_time_unix_nano - retrieve.start_time_unix_nano) / 1e9
    assert seconds == pytest.approx(answer.timings["retrieve"], abs=1e-3)
    # Only the answer's shape travels, never what was asked or answered.
    everything = json.dumps([str(s) for s in spans])
    assert "geprioriteerd" not in everything and answer.text[:30] not in everything


def test_the_served_app_has_them_beside_the_page_and_the_api(tmp_path, base_settings, embedder):
    import httpx

    from tests.servers import running_app

    settings = base_settings.model_copy(
        update={"store_dir": tmp_path / "store", "port": free_port(), "host": "127.0.0.1"}
    )
    with running_app(settings, embedder) as (url, _):
        assert httpx.get(url + "healthz").json() == {"status": "ok"}
        ready = httpx.get(url + "readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert httpx.get(url).status_code == 200  # the page still at /
        assert httpx.get(url + "config").status_code == 200
        answer = httpx.post(url + "api/v1/ask", json={"question": ANSWERABLE}, timeout=120)
        assert answer.status_code == 200, answer.text
        text = httpx.get(url + "metrics").text
    assert 'ivb_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="/api/v1/ask",status="200"' in text
    # gradio's own routes are counted by their template, not by a path per session.
    assert 'route="/config",status="200"' in text
