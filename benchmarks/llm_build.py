"""The portable llama.cpp build against a native one, on this machine, in one run.

The bootstrap builds llama-cpp-python for a stated baseline (AVX2 + FMA + F16C + BMI2, no
native tuning, no AVX-512 or AMX: ``assistant/llm_build.py``) so that the build runs on
any x86-64 CPU with AVX2. This measures what that costs against a build tuned to this
machine (``-DGGML_NATIVE=ON``), with the packaged GGUF, the same prompts and threads:

- time to first token for an answer prompt of about 750 tokens read from scratch (the
  KV cache reset before each call), p50 over the prompts;
- generation speed (tokens/s after the first token);
- load time, and whether the native build ran at all here (a native build made on another
  CPU dies with SIGILL: that is the failure the portable build exists to avoid).

Each build runs in its own child process. The native build is compiled once into
``--native-dir`` (about 5 minutes on 2 cores) unless it is already there.

    python benchmarks/llm_build.py [--prompts 6] [--max-tokens 64] [--native-dir DIR]

Goal: portable time to first token and generation speed within 1.3× of native.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import llm_build
from assistant.model_fetch import llm_model_path
from assistant.settings import REPO_ROOT, Settings
from benchmarks.common import (
    add_common_args,
    describe_machine,
    machine_info,
    out_dir,
    ratio,
    write_result,
)

SEED_TEXT = (
    REPO_ROOT.parent / "shared" / "seed" / "toelichting-beeldvormende-vergadering-ivb-2024-2027.txt"
)

# Runs inside each build's child: prompts from argv[1] (JSON), prints one JSON line.
CHILD = r"""
import json, sys, time
import llama_cpp
args = json.loads(sys.argv[1])
t = time.perf_counter()
llm = llama_cpp.Llama(model_path=args["model"], n_ctx=4096, n_threads=args["threads"],
                      n_threads_batch=args["threads"], verbose=False)
load_s = time.perf_counter() - t
runs = []
for prompt in args["prompts"]:
    llm.reset()
    messages = [{"role": "system", "content": args["system"]}, {"role": "user", "content": prompt}]
    start = time.perf_counter()
    first = None
    pieces = []
    for part in llm.create_chat_completion(messages=messages, max_tokens=args["max_tokens"],
                                           temperature=0.0, stream=True):
        text = part["choices"][0]["delta"].get("content") or ""
        if text:
            first = first if first is not None else time.perf_counter() - start
            pieces.append(text)
    total = time.perf_counter() - start
    tokens = len(llm.tokenize("".join(pieces).encode(), add_bos=False)) if pieces else 0
    prompt_tokens = len(llm.tokenize((args["system"] + prompt).encode(), add_bos=True))
    rate = (tokens - 1) / (total - first) if first is not None and tokens > 1 else 0.0
    runs.append({"ttft_s": first or total, "tokens": tokens, "tokens_per_s": rate,
                 "prompt_tokens": prompt_tokens})
print(json.dumps({"load_s": load_s, "runs": runs,
                  "system_info": llama_cpp.llama_print_system_info().decode()}))
"""


def prompts(n: int) -> list[str]:
    """Answer-like prompts of about 750 tokens: the seed briefing cut into windows."""
    text = " ".join(SEED_TEXT.read_text(encoding="utf-8").split())
    window = 2600  # characters, about 700 tokens of Dutch
    step = max(1, (len(text) - window) // max(1, n - 1))
    return [
        f"Bronnen:\n{text[i * step : i * step + window]}\n\nVraag: Wat staat hierboven over "
        f"de aanpak van ondermijning?"
        for i in range(n)
    ]


def build_native(target: Path) -> None:
    env = dict(os.environ, CMAKE_ARGS="-DGGML_NATIVE=ON", FORCE_CMAKE="1")
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-cache-dir", "--no-deps",
           "--no-binary", "llama-cpp-python", "--target", str(target),
           f"llama-cpp-python=={llm_build.LLAMA_CPP_VERSION}"]  # fmt: skip
    subprocess.run(cmd, env=env, check=True)


def run_build(pythonpath: str | None, payload: dict) -> dict:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(payload)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode < 0:
        return {"error": f"died with {signal.Signals(-done.returncode).name}"}
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-300:]}"}
    data = json.loads(done.stdout.strip().splitlines()[-1])
    runs = data["runs"]
    ttfts = sorted(r["ttft_s"] for r in runs)
    data["ttft_p50_s"] = round(ttfts[len(ttfts) // 2], 3)
    data["tokens_per_s"] = round(sum(r["tokens_per_s"] for r in runs) / len(runs), 2)
    data["prompt_tokens_mean"] = round(sum(r["prompt_tokens"] for r in runs) / len(runs), 1)
    data["features"] = sorted(llm_build.parse_system_info(data.pop("system_info")))
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser)
    parser.add_argument("--prompts", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--native-dir", type=Path, default=Path("/tmp/ivb-native-llama"))
    parser.add_argument(
        "--also",
        default="",
        help="more builds to compare, NAME=DIR,... (e.g. avx512=/tmp/avx512-llama, built with "
        "pip install --target DIR and the CMake options you want)",
    )
    args = parser.parse_args()
    if args.quick:
        args.prompts, args.max_tokens = 2, 16
    settings = Settings()
    info = machine_info()
    print(describe_machine(info), flush=True)
    if not (args.native_dir / "llama_cpp").is_dir():
        print(f"building a native llama-cpp-python into {args.native_dir} ...", flush=True)
        build_native(args.native_dir)
    payload = {
        "model": str(llm_model_path(settings)),
        "threads": settings.llm_threads,
        "max_tokens": args.max_tokens,
        "system": "Je beantwoordt vragen in het Nederlands, alleen met de gegeven bronnen.",
        "prompts": prompts(args.prompts),
    }
    builds: dict[str, str | None] = {"portable": None, "native": str(args.native_dir)}
    for item in filter(None, args.also.split(",")):
        name, _, folder = item.partition("=")
        builds[name] = folder
    results: dict[str, list[dict]] = {}
    # Two rounds, the order reversed in the second, so no build always runs on a warm machine.
    names = list(builds)
    for who in names + names[::-1]:
        result = run_build(builds[who], payload)
        results.setdefault(who, []).append(result)
        print(who, {k: v for k, v in result.items() if k != "runs"}, flush=True)

    def best(rows: list[dict]) -> dict:
        ok = [r for r in rows if "error" not in r]
        return min(ok, key=lambda r: r["ttft_p50_s"]) if ok else rows[0]

    chosen = {who: best(rows) for who, rows in results.items()}
    portable = chosen["portable"]
    summary = {
        "machine": info,
        "prompts": args.prompts,
        "max_tokens": args.max_tokens,
        "threads": settings.llm_threads,
        "builds": chosen,
        "ratios": {
            who: {
                "ttft_portable_vs_build": ratio(portable.get("ttft_p50_s"), row.get("ttft_p50_s")),
                "speed_build_vs_portable": ratio(
                    row.get("tokens_per_s"), portable.get("tokens_per_s")
                ),
            }
            for who, row in chosen.items()
            if who != "portable" and "error" not in row
        },
        "crashed": {who: row["error"] for who, row in chosen.items() if "error" in row},
        "goal": "portable within 1.3x of each tuned build that runs here, on time to first "
        "token and tokens/s",
    }
    path = write_result("llm_build", summary, out_dir(args))
    print(
        json.dumps({k: v for k, v in summary.items() if k not in ("machine",)}, default=str)[:2000]
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
