"""Query latency at 1k (10k, 100k) chunks, the local LLM's speed, and memory.

Stores of large sizes are filled without embedding every chunk: the texts are real
statute chunks (nl-wetten-2017, chunked as ingest chunks them; past the end of the corpus
the statutes are used again under new document ids), and the vectors are SYNTHETIC: a
sample of chunks is embedded by the real model and every other chunk gets a copy of one
of those vectors with Gaussian noise (cosine ≈ 0.85 to the original). Chunks are written
with `Store.stage` + `Store.commit`, as ingest writes them. The BM25 side therefore sees
real text; the dense side sees realistic vectors but not meaningful neighbours.

At each size, interleaved per question:
- ours: `Retriever.search` (hybrid), and the extractive answer (`AnswerPipeline.ask`);
- baseline: the naive dense query on the same Chroma collection (benchmarks/baseline.py).

Then the local LLM (llama.cpp): time to first token and tokens/s with 5 retrieved
passages, through our LangChain chat model and, as baseline, llama.cpp's own
`create_chat_completion` with the same messages; its KV cache is reset before every
call, so each time to first token includes reading the whole prompt. Last, the process
RSS with both models loaded.

    python benchmarks/query_latency.py [--sizes 1000[,10000,100000]] [--no-llm] [--quick]

Goals: hybrid p95 ≤ 300 ms at 100k chunks; time to first token ≤ 8 s; RSS ≤ 4 GB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.types import Chunk, Document
from benchmarks.common import (
    STATUTE_QUESTIONS,
    Timer,
    add_common_args,
    bench_settings,
    documents_with_chunks,
    figure,
    latency_stats,
    load_embedder,
    parse_sizes,
    peak_rss_mb,
    print_and_write,
    rss_mb,
    statute_sample,
)

NAME = "query_latency"
HYBRID_P95_GOAL_MS = 300.0
GOAL_SIZE = 100_000
TTFT_GOAL_S = 8.0
RSS_GOAL_MB = 4096.0
NOISE = 0.6  # norm of the noise added to a sampled vector before renormalising
EXTRA_QUESTIONS = [
    "Wanneer mag de burgemeester een noodverordening uitvaardigen?",
    "Welke bevoegdheden heeft de gemeenteraad bij het vaststellen van de begroting?",
    "Wat zijn de taken van de veiligheidsregio bij rampen en crises?",
    "Hoe lang mag iemand in verzekering worden gesteld?",
    "Wie is bevoegd om een vergunning in te trekken na een Bibob-onderzoek?",
    "Welke regels gelden voor het openbaar maken van documenten door een bestuursorgaan?",
    "Wat is de bezwaartermijn tegen een besluit van een bestuursorgaan?",
    "Mag de politie identiteitsbewijzen vorderen en wanneer?",
]


def questions(n: int) -> list[str]:
    """n Dutch questions about statutes (the wetten-burgemeester set plus a few more)."""
    base = (
        [
            json.loads(line)["question"]
            for line in STATUTE_QUESTIONS.read_text().splitlines()
            if line.strip()
        ]
        if STATUTE_QUESTIONS.is_file()
        else []
    )
    base += EXTRA_QUESTIONS
    return [base[i % len(base)] for i in range(n)]


# -- filling a store with real texts and synthetic vectors ---------------------------------------
def chunk_stream(settings: Any, seed: int) -> Iterator[tuple[Document, list[Chunk]]]:
    """Statutes in a seeded order, chunked as ingest does; then again as copies with new ids."""
    paths = statute_sample(10_000, seed=seed)
    for copy in range(1_000):
        for path in paths:
            for doc, chunks in documents_with_chunks([path], settings):
                if not chunks:
                    continue
                if copy:
                    doc_id = f"{doc.doc_id}-copy{copy}"
                    meta = doc.meta.model_copy(update={"doc_id": doc_id})
                    doc = doc.model_copy(update={"meta": meta})
                    chunks = [
                        c.model_copy(
                            update={"doc_id": doc_id, "id": f"{doc_id}:{c.id.split(':', 1)[1]}"}
                        )
                        for c in chunks
                    ]
                yield doc, chunks


class SyntheticVectors:
    """Real vectors for the first `sample` chunks; noisy copies of them for the rest."""

    def __init__(self, embedder: Any, sample_texts: list[str], seed: int) -> None:
        self.real = embedder.encode_documents(sample_texts)
        self.rng = np.random.default_rng(seed)
        self.issued = 0

    def next(self, n: int) -> np.ndarray:
        idx = np.arange(self.issued, self.issued + n)
        self.issued += n
        out = self.real[idx % len(self.real)].copy()
        copies = idx >= len(self.real)
        if copies.any():
            dim = out.shape[1]
            noise = self.rng.normal(0.0, NOISE / np.sqrt(dim), size=(int(copies.sum()), dim))
            out[copies] += noise.astype(np.float32)
            out[copies] /= np.linalg.norm(out[copies], axis=1, keepdims=True)
        return out


class StoreFiller:
    """Grows one store to each requested size, document by document."""

    def __init__(self, store: Any, settings: Any, embedder: Any, sample: int, seed: int) -> None:
        from assistant.embeddings import embedding_text

        self.store = store
        self.stream = chunk_stream(settings, seed)
        self.pending: list[tuple[Document, list[Chunk]]] = []
        texts: list[str] = []
        while len(texts) < sample:  # the first chunks of the stream get real vectors
            doc, chunks = next(self.stream)
            self.pending.append((doc, chunks))
            texts += [embedding_text(c.title, c.section, c.text) for c in chunks]
        with Timer() as t:
            self.vectors = SyntheticVectors(embedder, texts[:sample], seed)
        self.sample_embed_s = t.seconds
        self.count = 0
        self.documents = 0
        self.fill_s = 0.0

    def _next_doc(self) -> tuple[Document, list[Chunk]]:
        return self.pending.pop(0) if self.pending else next(self.stream)

    def grow_to(self, size: int) -> None:
        with Timer() as t, self.store.writer():
            while self.count < size:
                doc, chunks = self._next_doc()
                chunks = chunks[: size - self.count]
                self.store.stage(chunks, self.vectors.next(len(chunks)))
                self.store.commit(doc, chunks[0].doc_hash, len(chunks))
                self.count += len(chunks)
                self.documents += 1
        self.fill_s += t.seconds


# -- measurements ----------------------------------------------------------------------------
def measure_size(
    service: Any, pipeline: Any, naive: Any, qs: list[str], answers: int
) -> dict[str, Any]:
    retriever = service.retriever
    for q in qs[:3]:  # warm-up: caches of SQLite, Chroma and the model
        retriever.search(q, k=5)
        naive.invoke(q)
    ours, base, parts = [], [], {"embed_query": [], "search": [], "fuse": []}
    for i, q in enumerate(qs):
        order = ("ours", "naive") if i % 2 == 0 else ("naive", "ours")
        for who in order:
            start = time.perf_counter()
            if who == "ours":
                retriever.search(q, k=5)
                ours.append(time.perf_counter() - start)
                for key in parts:
                    parts[key].append(retriever.last_timings.get(key, 0.0))
            else:
                naive.invoke(q)
                base.append(time.perf_counter() - start)
    answer_s, refused = [], 0
    for q in qs[:answers]:
        start = time.perf_counter()
        answer = pipeline.ask(q, backend="extractive")
        answer_s.append(time.perf_counter() - start)
        refused += answer.refused
    return {
        "hybrid": latency_stats(ours),
        "hybrid_parts_p50_ms": {k: round(1000 * float(np.median(v)), 1) for k, v in parts.items()},
        "naive_dense": latency_stats(base),
        "extractive_answer": latency_stats(answer_s),
        "extractive_refused": refused,
    }


def measure_llm(settings: Any, retriever: Any, qs: list[str], max_tokens: int) -> dict[str, Any]:
    """Time to first token and tokens/s: our chat model (the supervised model process,
    over its OpenAI-compatible API) vs llama.cpp's own call in this process."""
    from llama_cpp import Llama

    from assistant import prompts
    from assistant.language import detect
    from assistant.llm import make_chat_model, start_local_model

    with Timer() as load:
        process = start_local_model(settings)
        chat = make_chat_model(settings, "local")
    llama = Llama(
        model_path=str(process.model_path), n_ctx=settings.llm_context,
        n_threads=settings.llm_threads, n_threads_batch=settings.llm_threads, verbose=False,
    )  # fmt: skip
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "llama.cpp": []}
    for i, q in enumerate(qs):
        passages = retriever.search(q, k=5)
        # The messages the answer pipeline sends (passages focused as configured).
        (_, system), (_, user) = prompts.answer_messages(
            q, passages, settings.audience, detect(q), settings.llm_passage_chars,
            retriever.store.idf,
        )  # fmt: skip
        # A different first token each round: neither side reuses a cached prefix, so
        # every call reads the whole prompt (the served model cannot be reset from here).
        system = f"({i}) {system}"
        prompt_tokens = len(llama.tokenize(f"{system}\n{user}".encode(), add_bos=True))
        order = ("ours", "llama.cpp") if i % 2 == 0 else ("llama.cpp", "ours")
        for who in order:
            llama.reset()
            pieces: list[str] = []
            first = None
            start = time.perf_counter()
            if who == "ours":
                stream = (
                    getattr(c, "content", "")
                    for c in chat.stream(
                        [("system", system), ("human", user)], max_tokens=max_tokens
                    )
                )
            else:
                stream = (
                    part["choices"][0]["delta"].get("content") or ""
                    for part in llama.create_chat_completion(
                        messages=[
                            {"role": "system", "content": system},
                            {"role": "user", "content": user},
                        ],
                        max_tokens=max_tokens,
                        temperature=0.0,
                        stream=True,
                    )
                )
            for piece in stream:
                if piece:
                    first = first if first is not None else time.perf_counter() - start
                    pieces.append(piece)
            total = time.perf_counter() - start
            text = "".join(pieces)
            tokens = len(llama.tokenize(text.encode(), add_bos=False)) if text else 0
            rate = (tokens - 1) / (total - first) if first is not None and tokens > 1 else 0.0
            runs[who].append(
                {
                    "ttft_s": round(first or total, 3),
                    "total_s": round(total, 3),
                    "tokens": tokens,
                    "tokens_per_s": round(rate, 2),
                    "prompt_tokens": prompt_tokens,
                }
            )

    # As served: the process answers one question after another with the same system
    # prompt, and llama.cpp reuses the key/value cache of that common prefix. Prime it
    # with another question, then time each question without a reset.
    warm: list[float] = []
    prime = [("system", prompts.system_prompt(settings.audience, "nl")), ("human", "Hallo")]
    for _ in chat.stream(prime, max_tokens=1):
        pass
    for q in qs:
        passages = retriever.search(q, k=5)
        messages = prompts.answer_messages(
            q, passages, settings.audience, detect(q), settings.llm_passage_chars,
            retriever.store.idf,
        )  # fmt: skip
        start = time.perf_counter()
        for c in chat.stream(messages, max_tokens=max_tokens):
            if getattr(c, "content", ""):
                warm.append(time.perf_counter() - start)
                break

    def summary(rows: list[dict[str, float]]) -> dict[str, float]:
        return {
            "ttft_p50_s": round(float(np.median([r["ttft_s"] for r in rows])), 3),
            "ttft_max_s": round(max(r["ttft_s"] for r in rows), 3),
            "tokens_per_s": round(float(np.mean([r["tokens_per_s"] for r in rows])), 2),
            "prompt_tokens_mean": round(float(np.mean([r["prompt_tokens"] for r in rows])), 1),
        }

    return {
        "model": process.model_path.name,
        "load_s": round(load.seconds, 2),
        "max_tokens": max_tokens,
        "threads": settings.llm_threads,
        "ours": summary(runs["ours"]),
        "llama_cpp": summary(runs["llama.cpp"]),
        "ours_warm_ttft_p50_s": round(float(np.median(warm)), 3) if warm else None,
        "ours_warm_ttft_s": [round(x, 3) for x in warm],
        "runs": runs,
    }


def serving_memory() -> dict[str, Any]:
    """RSS of a fresh serving process: the app's service on the IVB corpus with both models
    loaded, after one extractive and one local answer (what `ivb serve` holds): the app's
    process plus the local model's own process. Runs in a child process, so the big
    benchmark stores above do not count."""
    import subprocess

    code = (
        "import json, sys, tempfile\n"
        "from pathlib import Path\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from benchmarks.common import bench_settings, rss_mb\n"
        "from assistant.answer import AnswerPipeline\n"
        "from assistant.service import get_service\n"
        "from assistant.settings import REPO_ROOT\n"
        "from ingest.pipeline import ingest_paths\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    s = bench_settings(Path(tmp) / 'store')\n"
        "    ingest_paths([REPO_ROOT / 'corpus'], s)\n"
        "    p = AnswerPipeline(get_service(s))\n"
        "    embedder_mb = rss_mb()\n"
        "    q = 'Welke thema\\'s hebben de drie gemeenten samen geprioriteerd?'\n"
        "    p.ask(q, backend='extractive')\n"
        "    from assistant.llm import start_local_model\n"
        "    pid = start_local_model(s).pid\n"
        "    a = p.ask(q, backend='local')\n"
        "    kb = [l.split()[1] for l in open(f'/proc/{pid}/status') if l.startswith('VmRSS')]\n"
        "    model_mb = int(kb[0]) / 1024\n"
        "    print(json.dumps({'rss_mb': round(rss_mb() + model_mb, 1),\n"
        "        'embedder_only_mb': round(embedder_mb, 1),\n"
        "        'model_process_mb': round(model_mb, 1),\n"
        "        'answered': not a.refused}))\n"
    )
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", code, root], capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace) -> dict[str, Any]:
    from assistant.answer import AnswerPipeline
    from assistant.service import get_service
    from benchmarks.baseline import NaiveRetriever

    sizes = args.sizes
    qs = questions(args.queries)
    result: dict[str, Any] = {
        "note": "texts are real statute chunks; vectors beyond the sample are synthetic "
        "noisy copies of real ones (see the module docstring)",
        "sizes": [],
    }
    figures = []
    with tempfile.TemporaryDirectory(prefix="ivb-bench-query-") as tmp:
        settings = bench_settings(Path(tmp) / "store")
        embedder, load_s = load_embedder(settings)
        result["embedder"] = {
            "precision": embedder.precision,
            "load_s": round(load_s, 2),
            "rss_mb_after_load": round(rss_mb(), 1),
        }
        service = get_service(settings)
        service.retriever._embedder = embedder  # the instance loaded above (same settings)
        pipeline = AnswerPipeline(service)
        naive = NaiveRetriever(
            collection=service.store.vectors.collection, embeddings=embedder, k=5
        )
        filler = StoreFiller(service.store, settings, embedder, args.sample_vectors, args.seed)
        result["sample_vectors"] = args.sample_vectors
        result["sample_embed_s"] = round(filler.sample_embed_s, 2)
        for size in sizes:
            print(f"\n[{size} chunks] filling the store ...", flush=True)
            filler.grow_to(size)
            print(
                f"  {filler.count} chunks of {filler.documents} documents "
                f"({filler.fill_s:.1f} s writing so far); searching ...",
                flush=True,
            )
            row = {
                "chunks": service.store.count_chunks(),
                "documents": filler.documents,
                "fill_s_total": round(filler.fill_s, 1),
                **measure_size(service, pipeline, naive, qs, args.answers),
            }
            result["sizes"].append(row)
            h, n, a = row["hybrid"], row["naive_dense"], row["extractive_answer"]
            print(
                f"  hybrid p50 {h['p50_ms']} ms p95 {h['p95_ms']} ms; naive dense p95 "
                f"{n['p95_ms']} ms; extractive answer p95 {a['p95_ms']} ms"
            )
            goal = size >= GOAL_SIZE
            figures.append(
                figure(
                    f"search p50 at {row['chunks']} chunks (hybrid)",
                    h["p50_ms"],
                    n["p50_ms"],
                    unit="ms",
                    baseline_name="naive dense",
                )
            )
            figures.append(
                figure(
                    f"search p95 at {row['chunks']} chunks (hybrid)",
                    h["p95_ms"],
                    n["p95_ms"],
                    unit="ms",
                    baseline_name="naive dense",
                    goal=f"≤ {HYBRID_P95_GOAL_MS:g} ms at 100k" if goal else "",
                    met=h["p95_ms"] <= HYBRID_P95_GOAL_MS if goal else None,
                )
            )
            figures.append(
                figure(
                    f"extractive answer p95 at {row['chunks']} chunks",
                    a["p95_ms"],
                    unit="ms",
                    note=f"p50 {a['p50_ms']} ms",
                )
            )

        if args.llm:
            print("\nlocal LLM: time to first token and tokens/s ...", flush=True)
            try:
                llm = measure_llm(
                    settings, service.retriever, qs[: args.llm_questions], args.max_tokens
                )
            except Exception as exc:  # no llama-cpp-python or no GGUF: say so, go on
                llm = {"error": f"{type(exc).__name__}: {exc}"}
            result["llm"] = llm
            if "error" not in llm:
                o, b = llm["ours"], llm["llama_cpp"]
                figures.append(
                    figure(
                        "LLM time to first token, 5 passages, cold cache (p50)",
                        o["ttft_p50_s"],
                        b["ttft_p50_s"],
                        unit="s",
                        baseline_name="llama.cpp direct",
                        note=f"≈{o['prompt_tokens_mean']:.0f} prompt tokens, all read",
                    )
                )
                warm_s = llm["ours_warm_ttft_p50_s"]
                figures.append(
                    figure(
                        "LLM time to first token, 5 passages, as served (p50)",
                        warm_s,
                        o["ttft_p50_s"],
                        unit="s",
                        baseline_name="cold cache",
                        goal=f"≤ {TTFT_GOAL_S:g} s",
                        met=warm_s is not None and warm_s <= TTFT_GOAL_S,
                        note="system prompt's key/value cache reused, as in the app",
                    )
                )
                figures.append(
                    figure(
                        "LLM generation speed",
                        o["tokens_per_s"],
                        b["tokens_per_s"],
                        unit="tokens/s",
                        baseline_name="llama.cpp direct",
                    )
                )
            else:
                figures.append(figure("LLM: not measured", None, note=llm["error"]))
        result["rss_mb_benchmark_process"] = round(rss_mb(), 1)
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)
        if args.llm and "error" not in result.get("llm", {}):
            print("\nmemory of a fresh serving process with both models ...", flush=True)
            serving = serving_memory()
            result["serving_process"] = serving
            if "error" in serving:
                figures.append(figure("serving RSS: not measured", None, note=serving["error"]))
            else:
                figures.append(
                    figure(
                        "serving process RSS with both models loaded",
                        serving["rss_mb"],
                        serving["embedder_only_mb"],
                        unit="MB",
                        baseline_name="same process, embedder only",
                        goal=f"≤ {RSS_GOAL_MB:g} MB",
                        met=serving["rss_mb"] <= RSS_GOAL_MB,
                        note="IVB corpus store; after one extractive and one local answer",
                    )
                )
        service.store.close()
    result["figures"] = figures
    return result


def details(result: dict[str, Any]) -> dict[str, Any]:
    """The per-size table and notes (printed here, and put in summary.md by run.py)."""
    headers = [
        "chunks",
        "hybrid p50 ms",
        "hybrid p95 ms",
        "embed/search/fuse p50 ms",
        "naive dense p50 ms",
        "naive dense p95 ms",
        "answer p50 ms",
        "answer p95 ms",
        "refused",
    ]
    rows = []
    for r in result["sizes"]:
        parts = r["hybrid_parts_p50_ms"]
        rows.append(
            [
                r["chunks"],
                r["hybrid"]["p50_ms"],
                r["hybrid"]["p95_ms"],
                f"{parts['embed_query']}/{parts['search']}/{parts['fuse']}",
                r["naive_dense"]["p50_ms"],
                r["naive_dense"]["p95_ms"],
                r["extractive_answer"]["p50_ms"],
                r["extractive_answer"]["p95_ms"],
                f"{r['extractive_refused']}/{r['extractive_answer']['n']}",
            ]
        )
    notes = ["Store contents: " + result["note"] + "; answer = extractive `AnswerPipeline.ask`."]
    llm = result.get("llm")
    if llm and "error" not in llm:
        o, b = llm["ours"], llm["llama_cpp"]
        notes.append(
            f"LLM {llm['model']} ({llm['threads']} threads, loaded in {llm['load_s']} s, "
            f"{llm['max_tokens']} tokens at most, KV cache reset before each call, "
            f"≈{o['prompt_tokens_mean']:.0f} prompt tokens): time to first token p50 "
            f"{o['ttft_p50_s']} s (llama.cpp direct {b['ttft_p50_s']} s), "
            f"{o['tokens_per_s']} tokens/s (direct {b['tokens_per_s']})."
        )
    elif llm:
        notes.append(f"LLM not measured: {llm['error']}")
    mem = {k: v for k, v in result.items() if k.startswith("rss_mb")}
    notes.append("Memory (MB): " + ", ".join(f"{k} {v}" for k, v in mem.items()) + ".")
    return {"headers": headers, "rows": rows, "notes": notes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help="store sizes in chunks (default 1000; 10k and 100k are opt-in)",
    )
    parser.add_argument("--queries", type=int, default=None, help="timed searches per size")
    parser.add_argument(
        "--answers", type=int, default=None, help="timed extractive answers per size"
    )
    parser.add_argument(
        "--sample-vectors",
        type=int,
        default=None,
        help="chunks embedded for real (the rest get synthetic copies)",
    )
    parser.add_argument("--no-llm", dest="llm", action="store_false", help="skip the LLM")
    parser.add_argument("--llm-questions", type=int, default=None)
    parser.add_argument(
        "--max-tokens", type=int, default=None, help="tokens generated per LLM call (default 128)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or ([300] if quick else [1000])
    args.queries = args.queries or (6 if quick else 40)
    args.answers = args.answers or (3 if quick else 20)
    args.sample_vectors = args.sample_vectors or (16 if quick else 200)
    args.llm_questions = args.llm_questions or (1 if quick else 3)
    args.max_tokens = args.max_tokens or (16 if quick else 128)
    result = run(args)
    result["quick"] = quick
    print_and_write(NAME, result, details(result), "query latency and LLM: ours vs baseline", args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
