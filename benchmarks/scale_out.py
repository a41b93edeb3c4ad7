"""Scale-out load: chat sessions across two stateless replicas against one replica, in one run.

The services of compose.yaml run here as local processes (tests/compose_services.py: the
commands and environment compose.yaml and the Dockerfile declare; PostgreSQL from
Debian's packages, `chroma run`, the LLM server's OpenAI-compatible stand-in, two `ivb
serve` replicas). The sessions ask with the extractive backend through each replica's
gradio `ask` endpoint (tests/stress/load.py), in two phases over the same cluster:

1. baseline: all sessions against replica A alone;
2. scale-out: the same number of sessions, half on A and half on B.

It reports errors (goal: 0), latency p50/p95, throughput, and the ratio scale-out /
baseline of the p95 latency. Both replicas share one machine's cores here: two replicas
on one 2-core host cannot add CPU, so the ratio measures what the replicas cost, not what
separate hosts would gain.

    python -m benchmarks.scale_out                     # 40 sessions × 120 s per phase
    python -m benchmarks.scale_out --sessions 8 --duration 20
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS_DIR, machine_info, render_table


def run(sessions: int, duration_s: float, timeout_s: float, workdir: Path) -> dict[str, Any]:
    """Start the cluster, run both phases, return the results."""
    from assistant.settings import Settings
    from tests.compose_services import start_cluster
    from tests.stress.load import run_load, warm_up

    model_cache = Settings().model_cache_dir
    with contextlib.ExitStack() as stack:
        print("starting compose.yaml's services (PostgreSQL, Chroma, LLM stand-in, 2 replicas)")
        cluster = start_cluster(
            stack, workdir, env={}, model_cache=model_cache, proxy=False, fetch_models=False
        )
        urls = [app.url for app in cluster.apps]
        warm = [round(warm_up(url, "extractive"), 2) for url in urls]
        print(f"replicas {urls} ready; warm-up answers in {warm} s")
        load_before = [round(x, 2) for x in os.getloadavg()]
        print(f"phase 1: {sessions} sessions × {duration_s:.0f} s against one replica …")
        one = run_load(urls[0], sessions, duration_s, "extractive", timeout_s=timeout_s)
        print(f"phase 2: {sessions} sessions × {duration_s:.0f} s across {len(urls)} replicas …")
        two = run_load(urls, sessions, duration_s, "extractive", timeout_s=timeout_s)
    return {
        "benchmark": "scale_out",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_avg_before": load_before,
        "backend": "extractive",
        "sessions": sessions,
        "duration_s": duration_s,
        "replicas": len(urls),
        "warm_up_s": warm,
        "one_replica": _short(one),
        "two_replicas": _short(two),
        "ratio_p95_two_over_one": _ratio(two["latency_s"]["p95"], one["latency_s"]["p95"]),
        "ratio_throughput_two_over_one": _ratio(two["throughput_rps"], one["throughput_rps"]),
    }


def _short(summary: dict[str, Any]) -> dict[str, Any]:
    keys = ("requests", "answered", "refused", "errors", "error_samples", "malformed",
            "sessions_without_answer", "latency_s", "throughput_rps", "elapsed_s")  # fmt: skip
    return {k: summary[k] for k in keys}


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def table(result: dict[str, Any]) -> str:
    rows = []
    for name, key in (("1 replica", "one_replica"), ("2 replicas", "two_replicas")):
        r = result[key]
        lat = r["latency_s"]
        rows.append([name, r["requests"], r["errors"], r["malformed"], lat["p50"], lat["p95"],
                     r["throughput_rps"]])  # fmt: skip
    rows.append(["ratio 2 / 1", "", "", "", "", result["ratio_p95_two_over_one"],
                 result["ratio_throughput_two_over_one"]])  # fmt: skip
    headers = ["", "requests", "errors", "malformed", "p50 s", "p95 s", "requests/s"]
    return render_table(headers, rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds per phase")
    parser.add_argument("--timeout", type=float, default=600.0, help="per request, seconds")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "scale_out.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ivb-scale-") as tmp:
        result = run(args.sessions, args.duration, args.timeout, Path(tmp))
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":  # pragma: no cover
    main()
