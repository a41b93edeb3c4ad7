"""Whether a text's vector depends on the batch it is embedded in, per precision.

Each FAQ dev question is embedded alone and in a batch of two (beside the next question),
by the shipped embedder (``assistant.embeddings.Embedder``) at each precision; the cosine
of the two vectors of one question is 1.0 when the vector does not depend on the batch.
torch's dynamic int8 quantisation scales a layer's activations by the range of the whole
batch, padding and neighbour included, so its vectors can differ; fp32 is the baseline.
Why it matters: ingest and the CV embed passages in batches and questions alone, so a
batch-dependent vector makes a ranking depend on what happened to be embedded with it.

    python benchmarks/embedding_batch.py [--questions 20] [--precisions fp32,int8]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.embeddings import Embedder
from assistant.evaluation.dataset import load_dataset
from assistant.settings import REPO_ROOT, Settings


def batch_cosines(embedder: Embedder, questions: list[str]) -> list[float]:
    """Per question: cosine of its vector alone and its vector in a batch of two."""
    cosines = []
    for i, question in enumerate(questions):
        alone = embedder.encode_queries([question])[0]
        pair = embedder.encode_queries([question, questions[(i + 1) % len(questions)]])[0]
        cosines.append(float(np.dot(alone, pair)))
    return cosines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--precisions", default="fp32,int8")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    items = load_dataset(REPO_ROOT / "eval" / "faq-dev.jsonl")[: args.questions]
    questions = [i.question for i in items]
    result = {}
    for precision in args.precisions.split(","):
        embedder = Embedder(Settings(embedding_precision=precision))
        cosines = batch_cosines(embedder, questions)
        result[precision] = {
            "questions": len(cosines),
            "min": round(min(cosines), 4),
            "median": round(float(np.median(cosines)), 4),
            "changed (cosine < 0.9999)": sum(c < 0.9999 for c in cosines),
        }
        print(precision, result[precision], flush=True)
        del embedder
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "embedding_batch.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
