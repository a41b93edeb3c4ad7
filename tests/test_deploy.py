"""The Dockerfile, compose.yaml and deploy/nginx.conf agree with the code (no servers).

Docker cannot run on the test machines; tests/test_scale_out.py starts the services these
files declare. These checks are the cheap half: every name and number that the files and
the code must share.
"""

from __future__ import annotations

import re
import tomllib
from urllib.parse import urlparse

import pytest

from assistant.llm_build import BASELINE_CMAKE_ARGS, LLAMA_CPP_VERSION
from assistant.model_files import REGISTRY
from assistant.settings import REPO_ROOT, Settings
from tests.compose_services import (
    Localiser,
    container_port,
    dockerfile_stages,
    interpolate,
    load_compose,
    replicas,
    service_command,
    service_stage,
    volume_mounts,
)


@pytest.fixture(scope="module")
def compose():
    return load_compose({})


def test_interpolation_is_compose_s():
    env = {"SET": "a", "EMPTY": ""}
    assert interpolate("${SET:-x} ${EMPTY:-x} ${EMPTY-x} ${UNSET-x} ${UNSET}", env) == "a x  x "
    assert interpolate(["$$2b$$12", {"k": "${SET}"}], env) == ["$2b$12", {"k": "a"}]


def test_compose_has_the_services_of_a_scaled_out_set_up(compose):
    services = compose["services"]
    assert {"postgres", "chroma", "llm", "app", "proxy", "models"} <= set(services)
    assert replicas(compose, "app") == 2
    assert services["chroma"]["command"][:2] == ["chroma", "run"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["proxy"]["image"].startswith("nginx:")


def test_every_app_setting_in_compose_is_a_setting(compose):
    environment = compose["services"]["app"]["environment"]
    fields = set(Settings.model_fields)
    for key in environment:
        assert key.startswith("IVB_"), key
        assert key.removeprefix("IVB_").lower() in fields, f"{key} is no setting"
    settings = Settings(**{k.removeprefix("IVB_").lower(): v for k, v in environment.items()
                           if v != ""})  # fmt: skip
    assert settings.llm_backend == "openai"
    assert settings.chroma_url and settings.openai_base_url


def test_the_app_reaches_the_other_services_where_they_listen(compose):
    services = compose["services"]
    env = services["app"]["environment"]
    # Chroma and the LLM server listen where the app's URLs point.
    chroma = urlparse(env["IVB_CHROMA_URL"])
    assert (chroma.hostname, chroma.port) == ("chroma", container_port(compose, "chroma"))
    llm = urlparse(env["IVB_OPENAI_BASE_URL"])
    assert (llm.hostname, llm.port) == ("llm", container_port(compose, "llm"))
    assert llm.path == "/v1"
    # The model name the app asks for is the alias the server serves.
    command = [str(w) for w in services["llm"]["command"]]
    assert env["IVB_OPENAI_MODEL"] == command[command.index("--model_alias") + 1]
    # PostgreSQL: the user, password and database the image creates.
    db = urlparse(env["IVB_DATABASE_URL"])
    pg = services["postgres"]["environment"]
    assert db.hostname == "postgres" and db.port == container_port(compose, "postgres")
    assert (db.username, db.password, db.path.lstrip("/")) == (
        pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"],
    )  # fmt: skip
    # The same password variable on both sides.
    set_password = load_compose({"IVB_DB_PASSWORD": "geheim"})["services"]
    assert urlparse(set_password["app"]["environment"]["IVB_DATABASE_URL"]).password == "geheim"
    assert set_password["postgres"]["environment"]["POSTGRES_PASSWORD"] == "geheim"


def test_the_llm_server_loads_the_packaged_gguf_from_the_models_volume(compose):
    command = [str(w) for w in compose["services"]["llm"]["command"]]
    model = command[command.index("--model") + 1]
    gguf = REGISTRY["qwen2.5-coder-1.5b-instruct"].target
    llm_mounts = volume_mounts(compose, "llm")
    app_env = compose["services"]["app"]["environment"]
    assert model == f"{app_env['IVB_MODEL_CACHE_DIR']}/{gguf}"
    assert llm_mounts[app_env["IVB_MODEL_CACHE_DIR"]] == "models"
    assert volume_mounts(compose, "models")[app_env["IVB_MODEL_CACHE_DIR"]] == "models"
    assert volume_mounts(compose, "app")[app_env["IVB_MODEL_CACHE_DIR"]] == "models"


def test_replicas_share_the_uploads_folder_and_nothing_else_on_disk(compose):
    mounts = volume_mounts(compose, "app")
    store = compose["services"]["app"]["environment"]["IVB_STORE_DIR"]
    shared = {target for target, source in mounts.items() if target.startswith(store)}
    # Only plain files are shared (SQLite on a shared or network folder is unsafe).
    assert shared == {f"{store}/uploads"}


def test_the_proxy_sends_to_the_app_port_and_keeps_metrics_per_replica(compose):
    conf = (REPO_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(rf"server\s+app:{container_port(compose, 'app')}\b", conf)
    assert re.search(r"location = /metrics\s*\{\s*return 404;", conf)
    assert "ip_hash;" in conf  # a question and its event stream stay on one replica
    assert "proxy_buffering off;" in conf  # streamed answers
    proxy_mounts = volume_mounts(compose, "proxy")
    assert proxy_mounts["/etc/nginx/conf.d/default.conf"].startswith("./deploy/nginx.conf")


def test_the_dockerfile_builds_what_the_code_expects(compose):
    stages = dockerfile_stages()
    assert list(stages)[-1] == "app"  # the default target is the app
    app, llm = stages["app"], stages["llm"]
    # Non-root, models and data as volumes.
    assert app.user == "ivb" and llm.user == "ivb"
    assert {"/models", "/data"} <= set(app.volumes)
    assert app.env["IVB_MODEL_CACHE_DIR"] == "/models"
    # torch: the pinned CPU build, as pyproject pins it.
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    torch_pin = next(d for d in pyproject["project"]["dependencies"] if d.startswith("torch"))
    assert any(f'"{torch_pin}"' in run and "TORCH_INDEX" in run for run in app.runs)
    # llama.cpp only in the llm image, built for the portable baseline of llm_build.py.
    assert not any("llama" in run for run in app.runs)
    assert llm.env["CMAKE_ARGS"].split() == list(BASELINE_CMAKE_ARGS)
    assert any(f"llama-cpp-python[server]=={LLAMA_CPP_VERSION}" in run for run in llm.runs)
    assert any("--no-binary llama-cpp-python" in run for run in llm.runs)
    # Each service runs the image its build target makes.
    assert service_stage(compose, "llm").name == "llm"
    assert service_stage(compose, "app").name == "app"
    assert service_stage(compose, "chroma").name == "app"


def test_commands_are_mapped_to_local_processes(compose, tmp_path):
    localiser = Localiser(
        ports={"chroma": [9001], "llm": [9002], "postgres": [9003], "app": [9004, 9005]},
        mounts={"/models": tmp_path / "models", "/chroma": tmp_path / "chroma"},
    )
    chroma = service_command(compose, "chroma", localiser, 9001, 8000)
    assert chroma[1:] == ["run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1",
                          "--port", "9001"]  # fmt: skip
    llm = service_command(compose, "llm", localiser, 9002, 8080)
    assert llm[1:3] == ["-m", "llama_cpp.server"]
    assert str(tmp_path / "models") in llm[llm.index("--model") + 1]
    assert localiser.value("postgresql://ivb:x@postgres:5432/ivb") == (
        "postgresql://ivb:x@127.0.0.1:9003/ivb"
    )
    assert localiser.value("http://llm:8080/v1") == "http://127.0.0.1:9002/v1"
