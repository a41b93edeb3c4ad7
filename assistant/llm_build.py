"""The portable llama-cpp-python build: its baseline, its record, and the CPU check.

llama.cpp tunes itself to the build machine by default (``-march=native``): a build made
on a CPU with AVX-512 or AMX dies with SIGILL on one without, or on a VM that lists AMX but
does not grant it to processes. The bootstrap therefore builds for one stated x86-64
baseline (AVX2 + FMA + F16C + BMI2, native tuning, AVX-512 and AMX off) and records the
options beside the virtual environment. ``ivb models --verify`` compares what llama.cpp
reports about its own build with the flags of the machine it runs on.

Standard library only: the bootstrap runs this module before the project's dependencies
are installed (``python -m assistant.llm_build ensure|check``).
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LLAMA_CPP_VERSION = "0.3.36"

# ggml's CMake options for the baseline. With GGML_NATIVE=OFF ggml already enables
# SSE4.2/AVX/AVX2/BMI2/FMA/F16C and nothing newer; the rest are stated so a changed
# default upstream cannot widen the build unseen.
BASELINE_CMAKE_ARGS: tuple[str, ...] = (
    "-DGGML_NATIVE=OFF",
    "-DGGML_SSE42=ON",
    "-DGGML_AVX=ON",
    "-DGGML_AVX2=ON",
    "-DGGML_BMI2=ON",
    "-DGGML_FMA=ON",
    "-DGGML_F16C=ON",
    "-DGGML_AVX_VNNI=OFF",
    "-DGGML_AVX512=OFF",
    "-DGGML_AVX512_VBMI=OFF",
    "-DGGML_AVX512_VNNI=OFF",
    "-DGGML_AVX512_BF16=OFF",
    "-DGGML_AMX_TILE=OFF",
    "-DGGML_AMX_INT8=OFF",
    "-DGGML_AMX_BF16=OFF",
)

# What llama.cpp's system info calls a feature -> the /proc/cpuinfo flag(s) it needs.
FEATURE_FLAGS: dict[str, tuple[str, ...]] = {
    "SSE3": ("pni",),
    "SSSE3": ("ssse3",),
    "AVX": ("avx",),
    "AVX_VNNI": ("avx_vnni",),
    "AVX2": ("avx2",),
    "F16C": ("f16c",),
    "FMA": ("fma",),
    "BMI2": ("bmi2",),
    "AVX512": ("avx512f",),
    "AVX512_VBMI": ("avx512vbmi",),
    "AVX512_VNNI": ("avx512_vnni",),
    "AVX512_BF16": ("avx512_bf16",),
    "AMX_INT8": ("amx_int8", "amx_tile"),
}
BASELINE_FEATURES = frozenset({"SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA", "BMI2"})

STAMP_NAME = "ivb-llama-build.json"


@dataclass(frozen=True)
class CpuReport:
    """What the llama.cpp build uses against what this machine offers.

    Attributes:
        build: Instruction-set features compiled into llama.cpp (its own system info).
        machine: Features of ``FEATURE_FLAGS`` this CPU offers to processes.
        missing: Features the build uses that the machine lacks: non-empty means SIGILL.
        beyond_baseline: Features the build uses beyond ``BASELINE_FEATURES``.
        record: The bootstrap's build record, or None when the build was made otherwise.
    """

    build: frozenset[str]
    machine: frozenset[str]
    missing: frozenset[str]
    beyond_baseline: frozenset[str]
    record: dict | None

    def line(self) -> str:
        """One Dutch line for ``ivb models --verify``."""
        build = ", ".join(sorted(self.build)) or "onbekend"
        if self.missing:
            return (
                f"llama.cpp is gebouwd met {', '.join(sorted(self.missing))}, maar deze processor "
                f"biedt dat niet: bouw opnieuw met `bash scripts/bootstrap.sh` (basislijn AVX2)."
            )
        return f"llama.cpp gebruikt {build}; deze processor biedt ze allemaal."


def stamp_path(prefix: str | None = None) -> Path:
    """Where the bootstrap records the build options: inside the virtual environment."""
    return Path(prefix or sys.prefix) / STAMP_NAME


def read_stamp(prefix: str | None = None) -> dict | None:
    """The recorded build (version, CMake options, build CPU), or None."""
    try:
        return json.loads(stamp_path(prefix).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def machine_features(cpuinfo: str | None = None) -> frozenset[str]:
    """The ``FEATURE_FLAGS`` names this CPU offers; AMX only when the kernel grants it.

    Args:
        cpuinfo: Text of /proc/cpuinfo (read from disk when None).
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cpuinfo = ""
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
            break
    have = {name for name, need in FEATURE_FLAGS.items() if all(f in flags for f in need)}
    if "AMX_INT8" in have and not amx_granted():
        have.discard("AMX_INT8")
    return frozenset(have)


def amx_granted() -> bool:
    """Whether the kernel lets this process use AMX tiles (Linux ARCH_REQ_XCOMP_PERM).

    A VM can list amx_* in /proc/cpuinfo and still refuse the tile state; code that then
    runs an AMX instruction dies with SIGILL. Asking for the permission is harmless.
    """
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        return False
    arch_prctl, req_xcomp_perm, xfeature_xtiledata = 158, 0x1023, 18
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syscall(arch_prctl, req_xcomp_perm, xfeature_xtiledata) == 0
    except (OSError, AttributeError):
        return False


def parse_system_info(text: str) -> frozenset[str]:
    """The features llama.cpp reports as compiled in ("AVX2 = 1 | ..."), as names."""
    found = set()
    for part in text.replace("\n", "|").split("|"):
        name, sep, value = part.partition("=")
        name = name.strip().split(":")[-1].strip()
        if sep and value.strip() == "1" and name in FEATURE_FLAGS:
            found.add(name)
    return frozenset(found)


def build_system_info(python: str | None = None, timeout: float = 60.0) -> str:
    """llama.cpp's own report of its build, read in a child process.

    A child, because a library built for another CPU may die while loading; the caller
    must never die with it.

    Raises:
        RuntimeError: llama-cpp-python cannot be imported, or the child died.
    """
    code = "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"
    try:
        done = subprocess.run(
            [python or sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError("llama-cpp-python antwoordde niet binnen de tijd") from exc
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        if done.returncode < 0:
            why = f"gestopt door signaal {-done.returncode}"
        raise RuntimeError(f"llama-cpp-python laadt niet: {why}")
    return done.stdout


def cpu_report(python: str | None = None) -> CpuReport:
    """Compare the llama.cpp build with this machine.

    Raises:
        RuntimeError: As ``build_system_info``.
    """
    build = parse_system_info(build_system_info(python))
    machine = machine_features()
    return CpuReport(
        build=build,
        machine=machine,
        missing=frozenset(build - machine),
        beyond_baseline=frozenset(build - BASELINE_FEATURES),
        record=read_stamp(),
    )


def _installed_version() -> str | None:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        return version("llama-cpp-python")
    except PackageNotFoundError:
        return None


def wanted_record() -> dict:
    """The build record that ``ensure`` writes: version and CMake options."""
    return {"version": LLAMA_CPP_VERSION, "cmake_args": list(BASELINE_CMAKE_ARGS)}


def ensure() -> bool:
    """Build llama-cpp-python for the baseline unless the recorded build already is.

    Returns:
        True when it built, False when the installed build already matched.

    Raises:
        subprocess.CalledProcessError: pip failed to build or install.
    """
    record = read_stamp()
    wanted = wanted_record()
    if (
        record is not None
        and _installed_version() == LLAMA_CPP_VERSION
        and {k: record.get(k) for k in wanted} == wanted
    ):
        print(f"== llama-cpp-python {LLAMA_CPP_VERSION}: portable build already in place")
        return False
    print(
        f"== building llama-cpp-python {LLAMA_CPP_VERSION} for the AVX2 baseline "
        "(native tuning, AVX-512 and AMX off; ~5 min once)"
    )
    stamp_path().unlink(missing_ok=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "uninstall", "-y", "llama-cpp-python"], check=False)
    env = dict(os.environ, CMAKE_ARGS=" ".join(BASELINE_CMAKE_ARGS), FORCE_CMAKE="1")
    # --no-binary and --no-cache-dir: never reuse a wheel built elsewhere or natively.
    subprocess.run(
        [
            *pip,
            "install",
            "--no-cache-dir",
            "--no-binary",
            "llama-cpp-python",
            f"llama-cpp-python=={LLAMA_CPP_VERSION}",
        ],
        env=env,
        check=True,
    )
    record = {
        **wanted,
        "built_on": _cpu_model(),
        "python": platform.python_version(),
    }
    stamp_path().write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return True


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def check() -> int:
    """Print the build's features against the machine's; exit status 1 on a mismatch."""
    try:
        report = cpu_report()
    except RuntimeError as exc:
        print(f"llama.cpp: {exc}")
        return 1
    print(report.line())
    if report.beyond_baseline:
        print(
            "Let op: deze build gebruikt meer dan de basislijn "
            f"({', '.join(sorted(report.beyond_baseline))}); op een andere processor kan hij "
            "stoppen. Bouw opnieuw met `bash scripts/bootstrap.sh`."
        )
    return 1 if report.missing else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["ensure"]:
        ensure()
        return check()
    if argv[:1] == ["check"]:
        return check()
    print("usage: python -m assistant.llm_build ensure|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
