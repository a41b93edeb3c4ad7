"""Retrieval settings chosen by cross-validation, reported on held-out folds only.

Sets (answerable questions; a hit is the gold document, page or article):

- ``faq``: eval/faq-dev.jsonl over eval/faq/ (document level).
- ``statute_articles``: questions that name an article — eval/wetten-artikelen.jsonl and
  the generated eval/wetten-artikelen-gen.jsonl (eval/make_statute_questions.py) — and
- ``statute_powers``: eval/wetten-burgemeester.jsonl, both over the laws those questions
  are about plus fixed distractor statutes (article level).
- ``ivb``: eval/ivb-gold.jsonl over corpus/ (page level).
- ``real_docs``: eval/real-docs.jsonl over the PDFs of eval/make_real_docs_store.sh
  (page level).

One store is built per set, chunk size and precision; every vector is cached on disk
(``benchmarks/embedding_cache.py``), so a second run embeds nothing. For each question
the candidate lists (dense, BM25, article reference) are read once per store, then every
fusion setting is ranked by the shipped code (``Retriever.rank``). Five folds per set
(fixed seed): on each, one setting for all sets is chosen on the four training folds
(the mean over sets of their MRR, so a small set weighs as much as a large one) and
scored on the held-out fold. The dense fp32 baseline (1000-character chunks, no keyword
list, no reranking) runs in the same process on the same folds.

Precision is fp32 unless ``--precisions`` names int8 too: torch's dynamic int8
quantisation makes a vector depend on the batch it is embedded in (a question alone or
beside another: cosine 0.94; fp32 1.00; ``benchmarks/embedding_batch.py``), so an int8
ranking changes with what was embedded beside it and its CV figures are noise as much as
signal. int8 stays an option of the shipped settings, not a CV dimension.

    python benchmarks/retrieval_cv.py [--work /tmp/ivb-retrieval-cv] [--out benchmarks/results]
        [--sets faq,ivb] [--sizes 600,900,1200] [--precisions fp32] [--build-only]
        [--no-build] [--partial]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "eval"))

from make_statute_questions import STATUTES, chosen_laws

from assistant.evaluation.dataset import EvalItem, load_dataset
from assistant.evaluation.metrics import Located, matches
from assistant.retrieval import Fusion, Retriever
from assistant.settings import REPO_ROOT, Settings
from assistant.store import Store
from assistant.types import Chunk, Passage
from benchmarks.embedding_cache import CachedEmbedder
from ingest.pipeline import ingest_paths

EVAL = REPO_ROOT / "eval"
SHARED = REPO_ROOT.parent / "shared"
SEED = 14
FOLDS = 5
BASELINE = (1000, "fp32")
DISTRACTORS = 0
# The statute corpus holds the laws the statute questions are about, smallest first, so
# a build stopped early (this machine: 2 shared cores) holds whole small laws; with
# --partial a run ranks such a store and keeps only the questions about the laws in it.
# MAX_LAW_BYTES (with ALWAYS: laws kept anyway) leaves the larger laws out from the start.
MAX_LAW_BYTES: int | None = None
ALWAYS: tuple[str, ...] = ()


def distractor_laws(count: int = DISTRACTORS) -> list[str]:
    """Small statutes (8–25 kB, like the drawn ones) no question is about, evenly spread
    over the corpus index: the drawn laws are each other's distractors too."""
    rows = (STATUTES / "index.tsv").read_text(encoding="utf-8").splitlines()[1:]
    taken = set(chosen_laws())
    picked = [r.split("\t")[0] for r in rows if 8_000 < int(r.split("\t")[3]) < 25_000]
    picked = [p for p in picked if p not in taken]
    step = max(1, len(picked) // 14)
    return picked[::step][:count]


def statute_laws() -> list[str]:
    """The statutes of the statute corpus: the laws the questions are about (without the
    ones over MAX_LAW_BYTES, except ALWAYS, when it is set), plus the distractors."""
    laws = [
        law
        for law in chosen_laws()
        if MAX_LAW_BYTES is None
        or law in ALWAYS
        or (STATUTES / f"{law}.md").stat().st_size <= MAX_LAW_BYTES
    ]
    return laws + distractor_laws()


@dataclass(frozen=True)
class EvalSet:
    name: str
    corpus: str  # stores are shared by sets over the same corpus
    level: str  # "doc", "page" or "section"
    datasets: tuple[str, ...]


SETS = [
    EvalSet("faq", "faq", "doc", ("faq-dev.jsonl",)),
    EvalSet("statute_articles", "statutes", "section",
            ("wetten-artikelen.jsonl", "wetten-artikelen-gen.jsonl")),
    EvalSet("statute_powers", "statutes", "section", ("wetten-burgemeester.jsonl",)),
    EvalSet("ivb", "ivb", "page", ("ivb-gold.jsonl",)),
    EvalSet("real_docs", "real_docs", "page", ("real-docs.jsonl",)),
]  # fmt: skip


def corpus_paths(corpus: str) -> list[Path]:
    if corpus == "faq":
        return [EVAL / "faq"]
    if corpus == "ivb":
        return [REPO_ROOT / "corpus"]
    if corpus == "statutes":
        return sorted(
            (STATUTES / f"{law}.md" for law in statute_laws()), key=lambda p: p.stat().st_size
        )
    if corpus == "real_docs":
        pdfs = sorted((SHARED / "corpora" / "real-pdfs").glob("*.pdf"))
        return pdfs + sorted((SHARED / "cases").glob("*/*.pdf"))
    raise ValueError(corpus)


def store_settings(work: Path, corpus: str, size: int, precision: str) -> Settings:
    return Settings(
        store_dir=work / "stores" / f"{corpus}-{size}-{precision}",
        chunk_size=size,
        embedding_precision=precision,
        ingest_batch_chunks=32,  # the cache fills as it goes: an interrupted build loses little
    )


def build_stores(work: Path, corpora: list[str], configs: list[tuple[int, str]]) -> None:
    """Ingest every corpus at every (chunk size, precision); vectors come from the cache."""
    embedder: CachedEmbedder | None = None
    for size, precision in configs:
        if embedder is None or embedder.settings.embedding_precision != precision:
            if embedder is not None:
                embedder.release()
                gc.collect()
            embedder = CachedEmbedder(
                Settings(embedding_precision=precision), work / "embeddings.sqlite"
            )
        for corpus in corpora:
            settings = store_settings(work, corpus, size, precision)
            t = time.perf_counter()
            before = embedder.computed
            # Statutes one law at a time, smallest first: a stopped build holds whole laws.
            paths = corpus_paths(corpus)
            parts = [[p] for p in paths] if corpus == "statutes" else [paths]
            written, failed = 0, []
            for part in parts:
                report = ingest_paths(part, settings, embedder=embedder)
                written, failed = written + report.chunks_written, failed + report.failed
            marker = {"chunks": written, "failed": failed}  # the run ended
            (settings.store_dir / "built.json").write_text(json.dumps(marker) + "\n")
            print(f"[build] {corpus} size={size} {precision}: "
                  f"{written} written, {embedder.computed - before} embedded, "
                  f"{len(failed)} failed, {time.perf_counter() - t:.0f} s",
                  flush=True)  # fmt: skip


def load_items(s: EvalSet, laws: set[str] | None = None) -> list[EvalItem]:
    """The answerable questions with gold sources (statutes: only those about the laws
    in the statute corpus, or about ``laws`` when given)."""
    items: list[EvalItem] = []
    for name in s.datasets:
        items += [i for i in load_dataset(EVAL / name) if i.answerable and i.sources]
    if s.corpus == "statutes":
        laws = set(statute_laws()) if laws is None else laws
        items = [i for i in items if all(src.doc_id in laws for src in i.sources)]
    return items


def indexed_laws(work: Path, configs: list[tuple[int, str]]) -> set[str]:
    """The laws indexed in every statute store of these configurations (a build stopped
    early holds the smallest laws whole: ``build_stores``)."""
    laws: set[str] | None = None
    for size, precision in configs:
        settings = store_settings(work, "statutes", size, precision)
        if not (settings.store_dir / "catalog.sqlite3").exists():
            continue
        store = Store(settings)
        found = {d.doc_id for d in store.documents()}
        store.close()
        laws = found if laws is None else laws & found
    return laws or set()


def is_hit(chunk: Chunk, item: EvalItem, level: str) -> bool:
    where = Located.from_chunk(chunk)
    return any(matches(where, src, "doc" if level == "doc" else "page") for src in item.sources)


def first_hit(passages: list[Passage], item: EvalItem, level: str, depth: int = 10) -> int:
    """1-based rank of the first passage in a gold source within ``depth``; 0 if none."""
    for rank, p in enumerate(passages[:depth], start=1):
        if is_hit(p.chunk, item, level):
            return rank
    return 0


def fusion_grid() -> list[Fusion]:
    """The fusion settings tried: the BM25 list's weight, its weight when the question
    names an article, and the weight of the named article's list."""
    return [
        Fusion(keyword=kw, keyword_reference=kr, reference=ref)
        for kw in (0.0, 0.25, 0.5, 1.0)
        for kr in (0.25, 1.0, 2.0, 4.0)
        for ref in (0.0, 1.0, 2.0, 4.0)
    ]


def label(size: int, precision: str, f: Fusion) -> str:
    return (f"chunk={size} {precision} bm25={f.keyword:g} bm25_ref={f.keyword_reference:g} "
            f"ref={f.reference:g}")  # fmt: skip


def rank_table(
    work: Path,
    sets: list[EvalSet],
    items: dict[str, list[EvalItem]],
    configs: list[tuple[int, str]],
    partial: bool = False,
) -> tuple[dict[str, dict[str, list[int]]], dict[tuple[int, str], dict[str, list[int]]]]:
    """First-hit ranks (one per question) per configuration label and set, and per store
    configuration the ranks of its dense list alone. A store is used only when its build
    finished (``built.json``), or with ``partial`` as far as it got."""
    table: dict[str, dict[str, list[int]]] = {}
    dense: dict[tuple[int, str], dict[str, list[int]]] = {}
    grid = fusion_grid()
    for size, precision in configs:
        embedder = CachedEmbedder(
            Settings(embedding_precision=precision), work / "embeddings.sqlite"
        )
        for corpus in dict.fromkeys(s.corpus for s in sets):
            settings = store_settings(work, corpus, size, precision)
            marker = "catalog.sqlite3" if partial else "built.json"  # begun / finished
            if not (settings.store_dir / marker).exists():
                print(f"[skip] no finished store {corpus}-{size}-{precision}", flush=True)
                continue
            store = Store(settings)
            retriever = Retriever(settings, store, embedder=embedder)
            t = time.perf_counter()
            for s in [s for s in sets if s.corpus == corpus]:
                found = [retriever.candidates(i.question, 10) for i in items[s.name]]
                dense.setdefault((size, precision), {})[s.name] = [
                    first_hit(retriever.rank(c, Fusion(0.0, 0.0, 0.0)), i, s.level)
                    for c, i in zip(found, items[s.name], strict=True)
                ]
                for f in grid:
                    ranks = [first_hit(retriever.rank(c, f), i, s.level)
                             for c, i in zip(found, items[s.name], strict=True)]  # fmt: skip
                    table.setdefault(label(size, precision, f), {})[s.name] = ranks
            print(f"[rank] {corpus}-{size}-{precision}: {time.perf_counter() - t:.0f} s, "
                  f"{embedder.computed} embedded", flush=True)  # fmt: skip
            store.close()
        embedder.release()
        gc.collect()
    return table, dense


def metrics(ranks: list[int]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "mrr": sum(1.0 / r for r in ranks if r) / n,
        "recall@1": sum(1 for r in ranks if r == 1) / n,
        "recall@5": sum(1 for r in ranks if 0 < r <= 5) / n,
    }


def folds_of(items: dict[str, list[EvalItem]]) -> dict[str, list[int]]:
    """Fold number of every question, per set: shuffled (fixed seed), then dealt out."""
    out = {}
    for name, its in items.items():
        order = list(range(len(its)))
        random.Random(f"{SEED}:{name}").shuffle(order)
        fold = [0] * len(its)
        for position, index in enumerate(order):
            fold[index] = position % FOLDS
        out[name] = fold
    return out


def choose(table: dict[str, dict[str, list[int]]], keep: dict[str, list[bool]]) -> str:
    """The label with the best mean over sets of MRR on the kept questions; ties go to
    the first label in the table's order."""

    def objective(by_set: dict[str, list[int]]) -> float:
        total = 0.0
        for name, ranks in by_set.items():
            kept = [r for r, k in zip(ranks, keep[name], strict=True) if k]
            total += metrics(kept)["mrr"]
        return total / len(by_set)

    return max(table, key=lambda lab: objective(table[lab]))


def cross_validate(
    table: dict[str, dict[str, list[int]]],
    baseline: dict[str, list[int]],
    folds: dict[str, list[int]],
) -> dict:
    """Per fold: choose on the other folds, score on this one; the means over folds."""
    per_fold = []
    for fold in range(FOLDS):
        train = {n: [f != fold for f in fs] for n, fs in folds.items()}
        chosen = choose(table, train)
        row = {"fold": fold, "chosen": chosen, "sets": {}}
        for name, fs in folds.items():
            test = [i for i, f in enumerate(fs) if f == fold]
            row["sets"][name] = {
                "questions": len(test),
                "shipped": metrics([table[chosen][name][i] for i in test]),
                "dense_baseline": metrics([baseline[name][i] for i in test]),
            }
        per_fold.append(row)
    summary = {}
    for name in folds:
        summary[name] = {
            who: {m: sum(r["sets"][name][who][m] for r in per_fold) / FOLDS
                  for m in ("mrr", "recall@1", "recall@5")}
            for who in ("shipped", "dense_baseline")
        }  # fmt: skip
    return {"folds": per_fold, "held_out_mean": summary}


def evaluate(args: argparse.Namespace, sets: list[EvalSet], configs: list[tuple[int, str]]) -> dict:
    """Rank every question under every setting, then cross-validate in two stages.

    Stage "all_sets": the settings whose stores exist for every set. Stage
    "chunking_and_precision": every (chunk size, precision) built, on the sets that have
    all of them (on a loaded 2-core machine the fp32 statute and real-document stores
    may not be affordable). The dense baseline of a set is its fp32 1000-character store
    where built, else the dense list of the stage-one store, and says which.
    """
    laws = indexed_laws(args.work, configs) if args.partial else None
    items = {s.name: load_items(s, laws) for s in sets}
    table, dense = rank_table(args.work, sets, items, configs, args.partial)
    missing = [s.name for s in sets if not any(s.name in d for d in dense.values())]
    sets = [s for s in sets if s.name not in missing]  # no finished store: not measured
    items = {s.name: items[s.name] for s in sets}
    folds = folds_of(items)
    baseline: dict[str, list[int]] = {}
    baseline_kind: dict[str, str] = {}
    for s in sets:
        for config in [BASELINE, *configs]:
            if s.name in dense.get(config, {}):
                baseline[s.name] = dense[config][s.name]
                baseline_kind[s.name] = f"dense {config[1]}, {config[0]}-character chunks"
                break
    result: dict = {"questions": {n: len(v) for n, v in items.items()},
                    "dense_baseline": baseline_kind, "not_measured": missing}  # fmt: skip
    if any(s.corpus == "statutes" for s in sets):
        result["statute_laws"] = sorted(laws if laws is not None else statute_laws())
        result["statute_questions_left_out"] = {
            s.name: len(load_items(s, set(chosen_laws()))) - len(items[s.name])
            for s in sets
            if s.corpus == "statutes"
        }
    full = {k: v for k, v in table.items() if all(s.name in v for s in sets)}
    stage = cross_validate(full, baseline, folds)
    everything = {n: [True] * len(v) for n, v in items.items()}
    stage["configurations"] = len(full)
    stage["chosen_on_all_questions"] = choose(full, everything)
    previous = label(900, "int8", Fusion(0.25, 4.0, 0.0))
    stage["in_sample"] = {
        "chosen": {n: metrics(r) for n, r in full[stage["chosen_on_all_questions"]].items()},
        "previous_default": ({n: metrics(r) for n, r in full[previous].items()}
                             if previous in full else None),
        "dense_baseline": {n: metrics(r) for n, r in baseline.items()},
    }  # fmt: skip
    result["all_sets"] = stage
    # Per question the first-hit rank (within 10; 0: none) of the setting chosen on all
    # questions and of the dense baseline, for the analysis of misses.
    chosen = full[stage["chosen_on_all_questions"]]
    result["per_question"] = {
        s.name: [
            {"question": i.question, "chosen_rank": c, "dense_rank": d}
            for i, c, d in zip(items[s.name], chosen[s.name], baseline[s.name], strict=True)
        ]
        for s in sets
    }
    # Stage two: the sets where every built (size, precision) exists.
    built = sorted({c for c in dense})
    names = [s.name for s in sets if all(s.name in dense[c] for c in built)]
    if len(built) > 1 and names:
        sub = {k: {n: v[n] for n in names} for k, v in table.items()
               if all(n in v for n in names)}  # fmt: skip
        sub_folds = {n: folds[n] for n in names}
        second = cross_validate(sub, {n: baseline[n] for n in names}, sub_folds)
        second["sets"] = names
        second["store_configurations"] = [f"{z} {p}" for z, p in built]
        second["chosen_on_all_questions"] = choose(sub, {n: everything[n] for n in names})
        best_per_store = {}
        for z, p in built:
            labels = [k for k in sub if k.startswith(f"chunk={z} {p} ")]
            best = choose({k: sub[k] for k in labels}, {n: everything[n] for n in names})
            best_per_store[f"{z} {p}"] = {
                "best_fusion_in_sample": best,
                "in_sample": {n: metrics(sub[best][n]) for n in names},
                "dense_in_sample": {n: metrics(dense[(z, p)][n]) for n in names},
            }
        second["per_store"] = best_per_store
        result["chunking_and_precision"] = second
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ivb-retrieval-cv"))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    parser.add_argument("--sets", default=",".join(s.name for s in SETS))
    parser.add_argument("--sizes", default="600,1000,1400")
    parser.add_argument("--precisions", default="fp32", help="fp32,int8: int8 too (noisy)")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--no-build", action="store_true", help="rank the stores already built")
    parser.add_argument(
        "--partial",
        action="store_true",
        help="also rank stores whose build was stopped; statute questions only about the laws"
        " indexed",
    )
    parser.add_argument("--order", default="", help="build order of size:precision pairs")
    args = parser.parse_args()
    sets = [s for s in SETS if s.name in args.sets.split(",")]
    configs = [(int(z), p) for p, z in itertools.product(args.precisions.split(","),
                                                          args.sizes.split(","))]  # fmt: skip
    if args.order:
        configs = [(int(o.split(":")[0]), o.split(":")[1]) for o in args.order.split(",")]
    elif BASELINE not in configs:
        configs.insert(0, BASELINE)
    corpora = list(dict.fromkeys(s.corpus for s in sets))
    if not args.no_build:
        build_stores(args.work, corpora, configs)
    if args.build_only:
        return
    t = time.perf_counter()
    result = evaluate(args, sets, [c for c in configs])
    result["seconds"] = round(time.perf_counter() - t, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "retrieval_cv.json").write_text(json.dumps(result, indent=2) + "\n")
    print_summary(result)


def print_summary(result: dict) -> None:
    for stage in ("all_sets", "chunking_and_precision"):
        if stage not in result:
            continue
        r = result[stage]
        print(f"\n== {stage}: chosen on all questions: {r['chosen_on_all_questions']}")
        for fold in r["folds"]:
            print(f"fold {fold['fold']}: {fold['chosen']}")
        print(f"{'set':18} {'who':15} {'MRR':>6} {'R@1':>6} {'R@5':>6}  (held-out folds, mean)")
        for name, by in r["held_out_mean"].items():
            for who, m in by.items():
                print(f"{name:18} {who:15} {m['mrr']:6.3f} {m['recall@1']:6.3f} "
                      f"{m['recall@5']:6.3f}")  # fmt: skip
    print("\ndense baselines:", result["dense_baseline"])


if __name__ == "__main__":
    main()
