"""compose.yaml's services started without Docker, with the commands and the environment
that compose.yaml and the Dockerfile declare, so that neither can drift from the code.

Docker cannot run on the test machines. So each service's command (the image's
ENTRYPOINT from the Dockerfile plus compose's ``command``) and environment (the image's
ENV plus compose's ``environment``, with ``${VAR:-default}`` filled in as compose does)
are read from the files and run as local processes. What a container has and a process
here has not is mapped, and only that:

- service names (``postgres:5432``, ``http://chroma:8000``) become ``127.0.0.1:<free
  port>``, one port per service and replica; ``0.0.0.0`` becomes ``127.0.0.1``;
- container paths become folders: a named volume a folder of the test (``models`` the
  real model cache), ``/app`` this checkout (the image copies it there);
- the executables become this interpreter's: ``ivb`` is ``python -m assistant``,
  ``python`` is sys.executable, ``chroma`` the CLI next to it;
- the ``postgres`` image runs Debian's PostgreSQL of the same major version, made by
  the pg tests' fixture (tests/postgres_server.py) with compose's POSTGRES_USER/_DB;
- ``deploy.replicas`` copies of a service are started on their own ports, and nginx's
  ``server app:7860`` lists them all, as Docker's DNS does.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.settings import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "compose.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")


# --------------------------------------------------------------------------- reading


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Fill in ``${VAR}``, ``${VAR:-default}`` and ``${VAR-default}`` as compose does, in
    every string of a loaded compose file ("$$" is a literal "$")."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def fill(match: re.Match[str]) -> str:
        name, how, default = match.group(1), match.group(2), match.group(3) or ""
        if how == ":-":
            return env.get(name) or default
        if how == "-":
            return env.get(name, default)
        return env.get(name, "")

    parts = value.split("$$")
    return "$".join(_VAR.sub(fill, part) for part in parts)


def load_compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """compose.yaml as compose reads it: anchors resolved, variables filled from env."""
    import yaml

    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return interpolate(raw, dict(os.environ if env is None else env))


@dataclass
class Stage:
    """One stage of the Dockerfile: its ENV, ENTRYPOINT, CMD, USER and RUN lines."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    user: str = "root"
    runs: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)


def dockerfile_stages(text: str | None = None) -> dict[str, Stage]:
    """The Dockerfile's stages by name (``FROM … AS name``), with what the tests compare."""
    text = DOCKERFILE.read_text(encoding="utf-8") if text is None else text
    joined = re.sub(r"\\\n", " ", text)
    stages: dict[str, Stage] = {}
    stage: Stage | None = None
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        word, rest = word.upper(), rest.strip()
        if word == "FROM":
            found = re.search(r"\bAS\s+(\S+)", rest, re.IGNORECASE)
            stage = Stage(found.group(1) if found else str(len(stages)))
            stages[stage.name] = stage
        elif stage is None:
            continue
        elif word == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                stage.env[key] = value
        elif word in ("ENTRYPOINT", "CMD"):
            setattr(stage, "entrypoint" if word == "ENTRYPOINT" else "cmd", json.loads(rest))
        elif word == "USER":
            stage.user = rest
        elif word == "RUN":
            stage.runs.append(rest)
        elif word == "VOLUME":
            stage.volumes.extend(json.loads(rest))
    return stages


def service_stage(compose: Mapping[str, Any], name: str) -> Stage:
    """The Dockerfile stage a service runs: its build target, or the stage of the service
    that builds its image."""
    stages = dockerfile_stages()
    services = compose["services"]
    service = services[name]
    target = (service.get("build") or {}).get("target")
    if target is None:
        for other in services.values():
            if other.get("image") == service.get("image") and other.get("build"):
                target = other["build"].get("target")
                break
    if target is None:
        raise KeyError(f"service {name!r} runs no image built from the Dockerfile")
    return stages[target]


# --------------------------------------------------------------------------- mapping


@dataclass
class Localiser:
    """Maps what a container sees to what a local process sees (see the module doc).

    Args:
        ports: service name → its local ports (one per replica; the first is used in URLs
            other services are given, as compose's DNS would give any of them).
        mounts: container path → local path (the longest prefix wins).
    """

    ports: dict[str, list[int]]
    mounts: dict[str, Path]

    def address(self, value: str) -> str:
        """``service:port`` (in a URL or alone) → ``127.0.0.1:<local port>``; 0.0.0.0 →
        127.0.0.1."""
        for service, ports in self.ports.items():
            value = re.sub(
                rf"(?<![\w.-]){re.escape(service)}:\d+(?![\d])", f"127.0.0.1:{ports[0]}", value
            )
        return value.replace("0.0.0.0", "127.0.0.1")

    def path(self, value: str) -> str:
        """A container path → its local path; anything else unchanged."""
        if not value.startswith("/"):
            return value
        for prefix in sorted(self.mounts, key=len, reverse=True):
            if value == prefix or value.startswith(prefix.rstrip("/") + "/"):
                return str(self.mounts[prefix]) + value[len(prefix.rstrip("/")) :]
        return value

    def value(self, value: str) -> str:
        return self.path(self.address(value))


def executable(word: str) -> list[str]:
    """A container's executable as this machine runs it."""
    bindir = Path(sys.executable).parent
    if word == "ivb":
        return [sys.executable, "-m", "assistant"]
    if word == "python":
        return [sys.executable]
    if (bindir / word).exists():
        return [str(bindir / word)]
    return [word]


def service_command(
    compose: Mapping[str, Any],
    name: str,
    localiser: Localiser,
    port: int,
    container_port: int,
) -> list[str]:
    """The service's command line as a local process: ENTRYPOINT + command, mapped, its
    own listening port ``container_port`` replaced by ``port``."""
    stage = service_stage(compose, name)
    service = compose["services"][name]
    words = [*stage.entrypoint, *(service.get("command") or stage.cmd)]
    out = [*executable(words[0])]
    previous = ""
    for word in words[1:]:
        if previous == "--port" and word == str(container_port):
            out.append(str(port))
        else:
            out.append(localiser.value(word))
        previous = word
    return out


def service_environment(
    compose: Mapping[str, Any], name: str, localiser: Localiser, overrides: Mapping[str, str]
) -> dict[str, str]:
    """The service's environment as a local process: the image's ENV, then compose's
    ``environment``, mapped; then ``overrides`` (a replica's own port and folder)."""
    env = {
        key: os.environ[key]
        for key in ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "TMPDIR")
        if key in os.environ
    }
    stage = service_stage(compose, name)
    declared = {**stage.env, **(compose["services"][name].get("environment") or {})}
    env.update({key: localiser.value(str(value)) for key, value in declared.items()})
    env.update(overrides)
    return env


def nginx_config(conf: str, localiser: Localiser, listen_port: int, workdir: Path) -> str:
    """A whole nginx.conf around deploy/nginx.conf (a conf.d file, as the nginx image
    includes it): its upstream servers are every replica's local port, and it listens on
    ``listen_port`` on loopback; pid, logs and temp files in workdir."""

    def servers(match: re.Match[str]) -> str:
        service, rest = match.group(1), match.group(3)
        ports = localiser.ports[service]
        return "\n".join(f"    server 127.0.0.1:{p}{rest};" for p in ports)

    body = re.sub(r"^\s*server\s+([\w-]+):(\d+)([^;]*);", servers, conf, flags=re.M)
    body = re.sub(r"^(\s*)listen\s+80;", rf"\1listen 127.0.0.1:{listen_port};", body, flags=re.M)
    temp = workdir / "nginx-temp"
    temp.mkdir(parents=True, exist_ok=True)
    return (
        f"daemon off;\nworker_processes 1;\npid {workdir / 'nginx.pid'};\n"
        f"error_log {workdir / 'nginx-error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  access_log {workdir / 'nginx-access.log'};\n"
        f"  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
        f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n"
        f"  scgi_temp_path {temp}/scgi;\n"
        f"{body}\n}}\n"
    )


def container_port(compose: Mapping[str, Any], name: str) -> int:
    """The port a service listens on inside its container, from its own command
    (``--port N``) or environment (``IVB_PORT``), or the image's default (PostgreSQL:
    5432; nginx: 80)."""
    service = compose["services"][name]
    words = [str(w) for w in service.get("command") or []]
    if "--port" in words:
        return int(words[words.index("--port") + 1])
    environment = service.get("environment") or {}
    if "IVB_PORT" in environment:
        return int(environment["IVB_PORT"])
    image = str(service.get("image", ""))
    if image.startswith("postgres"):
        return 5432
    if image.startswith("nginx"):
        return 80
    raise KeyError(f"no port for service {name!r}")


def replicas(compose: Mapping[str, Any], name: str) -> int:
    return int(((compose["services"][name].get("deploy") or {}).get("replicas")) or 1)


def volume_mounts(compose: Mapping[str, Any], name: str) -> dict[str, str]:
    """A service's mounts: container path → volume name or host path."""
    mounts = {}
    for item in compose["services"][name].get("volumes") or []:
        source, target = str(item).split(":")[:2]
        mounts[target] = source
    return mounts


def split_url_path(words: Sequence[str], flag: str) -> str:
    """The value after ``flag`` in a command."""
    return str(words[list(words).index(flag) + 1])


# --------------------------------------------------------------------------- running


def healthcheck_url(compose: Mapping[str, Any], name: str, port: int) -> str | None:
    """The URL a service's compose healthcheck opens, on the service's local port."""
    test = (compose["services"][name].get("healthcheck") or {}).get("test") or []
    found = re.search(r"http://[^'\"\s]+", " ".join(str(t) for t in test))
    if not found:
        return None
    return re.sub(r"//[^/:]+:\d+", f"//127.0.0.1:{port}", found.group(0), count=1)


@dataclass
class Replica:
    """One running copy of a service."""

    name: str
    port: int
    command: list[str]
    env: dict[str, str]
    log: Path
    ready_url: str
    process: Any = None  # subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@dataclass
class Cluster:
    """compose.yaml's services running here (see `compose_cluster`)."""

    compose: dict[str, Any]
    localiser: Localiser
    workdir: Path
    apps: list[Replica]
    others: dict[str, Replica]
    database_url: str
    llm: str  # "llama.cpp" or "stand-in"
    proxy_url: str | None = None

    def settings(self, replica: int = 0) -> Any:
        """The Settings a replica runs with (from its environment)."""
        from assistant.settings import Settings

        env = self.apps[replica].env
        values = {k.removeprefix("IVB_").lower(): v for k, v in env.items() if k.startswith("IVB_")}
        fields = set(Settings.model_fields)
        return Settings(**{k: v for k, v in values.items() if k in fields and v != ""})

    def start(self, replica: Replica, timeout_s: float = 600) -> None:
        """Start a replica (again) and wait for its healthcheck URL."""
        import subprocess

        from tests.servers import wait_http

        log = open(replica.log, "a")  # noqa: SIM115 - the child writes it until it ends
        replica.process = subprocess.Popen(
            replica.command, env=replica.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT
        )
        log.close()
        try:
            wait_http(replica.ready_url, timeout_s, replica.process)
        except Exception as exc:
            tail = replica.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{replica.name} did not become ready: {exc}\n{tail}") from exc

    def kill(self, replica: Replica) -> None:
        """SIGKILL, as a crash or an OOM kill ends a container."""
        if replica.process is not None and replica.process.poll() is None:
            replica.process.kill()
            replica.process.wait()

    def stop_all(self) -> None:
        import subprocess

        for replica in [*self.apps, *reversed(list(self.others.values()))]:
            proc = replica.process
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _real_llm_available(model_cache: Path) -> bool:
    import importlib.util

    from assistant.llm import local_runtime_missing
    from assistant.model_files import REGISTRY

    gguf = model_cache / REGISTRY["qwen2.5-coder-1.5b-instruct"].target
    return (
        importlib.util.find_spec("llama_cpp") is not None
        and not local_runtime_missing()
        and (gguf.is_file())
    )


def start_cluster(
    stack: Any,
    workdir: Path,
    *,
    env: Mapping[str, str],
    model_cache: Path,
    real_llm: bool = False,
    proxy: bool = True,
    fetch_models: bool = True,
    app_env: Mapping[str, str] | None = None,
) -> Cluster:
    """Start compose.yaml's services here; they stop when ``stack`` (an ExitStack) closes.

    Args:
        stack: a contextlib.ExitStack that owns the servers.
        workdir: where the volumes, logs and the replicas' own folders go.
        env: the variables compose fills in (IVB_DB_PASSWORD, IVB_STAFF_USERNAME, ...).
        model_cache: the folder the ``models`` volume stands for (the real model cache).
        real_llm: start llama.cpp's server on the packaged GGUF when it is there (else,
            and by default, the OpenAI-compatible stand-in tests/fake_model_server.py with
            the same arguments: loading the model costs the test suite time it does not
            need, the replicas answer with the extractive backend).
        proxy: run nginx with deploy/nginx.conf in front of the replicas.
        fetch_models: run the ``models`` one-shot service first.
        app_env: more environment for the replicas (a benchmark's settings).
    """
    import subprocess

    from tests.postgres_server import postgres_server
    from tests.servers import free_port, server_process

    compose = load_compose(env)
    services = compose["services"]
    n_apps = replicas(compose, "app")
    ports = {name: [free_port()] for name in ("chroma", "llm", "proxy")}
    ports["app"] = [free_port() for _ in range(n_apps)]
    uploads = workdir / "volumes" / "uploads"
    uploads.mkdir(parents=True)
    volumes = {"models": model_cache, "chroma": workdir / "volumes" / "chroma",
               "uploads": uploads}  # fmt: skip

    # PostgreSQL: the image's user and database, on Debian's binaries.
    pg_env = services["postgres"]["environment"]
    pg = stack.enter_context(postgres_server(workdir))
    ports["postgres"] = [pg.port]
    import psycopg

    with psycopg.connect(pg.url(), autocommit=True) as conn:
        if pg_env["POSTGRES_USER"] != "ivb":
            conn.execute(f'CREATE ROLE "{pg_env["POSTGRES_USER"]}" LOGIN SUPERUSER')
        conn.execute(f'CREATE DATABASE "{pg_env["POSTGRES_DB"]}" OWNER "{pg_env["POSTGRES_USER"]}"')

    def mounts(name: str) -> dict[str, Path]:
        found = {"/app": REPO_ROOT}
        for target, source in volume_mounts(compose, name).items():
            found[target] = volumes.get(source, REPO_ROOT / source)
        return found

    def localiser(name: str) -> Localiser:
        return Localiser(ports=ports, mounts=mounts(name))

    cluster = Cluster(compose, localiser("app"), workdir, [], {}, "", "stand-in")
    stack.callback(cluster.stop_all)

    if fetch_models:
        where = localiser("models")
        command = service_command(compose, "models", where, 0, -1)
        environment = service_environment(compose, "models", where, {})
        subprocess.run(command, env=environment, check=True, capture_output=True, cwd=REPO_ROOT)

    def other(name: str, command: list[str], ready: str) -> None:
        environment = service_environment(compose, name, localiser(name), {})
        log = workdir / f"{name}.log"
        replica = Replica(name, ports[name][0], command, environment, log, ready)
        cluster.others[name] = replica
        cluster.start(replica, timeout_s=180)

    volumes["chroma"].mkdir(parents=True, exist_ok=True)
    chroma_port = ports["chroma"][0]
    other(
        "chroma",
        service_command(compose, "chroma", localiser("chroma"), chroma_port,
                        container_port(compose, "chroma")),
        healthcheck_url(compose, "chroma", chroma_port) or "",
    )  # fmt: skip
    llm_port = ports["llm"][0]
    llm_command = service_command(
        compose, "llm", localiser("llm"), llm_port, container_port(compose, "llm")
    )
    if real_llm and _real_llm_available(model_cache):
        cluster.llm = "llama.cpp"
    else:
        stand_in = Path(__file__).parent / "fake_model_server.py"
        llm_command = [sys.executable, str(stand_in), "stall", *llm_command[3:]]
    other("llm", llm_command, healthcheck_url(compose, "llm", llm_port) or "")

    where = localiser("app")
    cluster.localiser = where
    cluster.database_url = where.value(services["app"]["environment"]["IVB_DATABASE_URL"])
    for i, port in enumerate(ports["app"]):
        own = workdir / f"app{i}" / "store"
        own.mkdir(parents=True)
        (own / "uploads").symlink_to(uploads, target_is_directory=True)  # the shared volume
        # Each container has its own /data/store; only its uploads/ is a (shared) volume.
        environment = service_environment(
            compose, "app", where,
            {"IVB_PORT": str(port), "IVB_STORE_DIR": str(own), **(app_env or {})},
        )  # fmt: skip
        command = service_command(compose, "app", where, port, container_port(compose, "app"))
        replica = Replica(
            f"app{i}", port, command, environment, workdir / f"app{i}.log",
            healthcheck_url(compose, "app", port) or "",
        )  # fmt: skip
        cluster.apps.append(replica)
    # Together, as compose starts them: one fills the empty store, the other waits for it.
    for replica in cluster.apps:
        log = open(replica.log, "a")  # noqa: SIM115
        replica.process = subprocess.Popen(
            replica.command, env=replica.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT
        )
        log.close()
    from tests.servers import wait_http

    for replica in cluster.apps:
        try:
            wait_http(replica.ready_url, 900, replica.process)
        except Exception as exc:
            tail = replica.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{replica.name} did not become ready: {exc}\n{tail}") from exc

    if proxy:
        import shutil

        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        conf_path = workdir / "nginx.conf"
        proxy_port = ports["proxy"][0]
        conf = (REPO_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
        conf_path.write_text(nginx_config(conf, where, proxy_port, workdir), encoding="utf-8")
        url = f"http://127.0.0.1:{proxy_port}/"
        stack.enter_context(
            server_process(
                [nginx, "-c", str(conf_path)], workdir / "proxy.log", url + "healthz", 30
            )
        )
        cluster.proxy_url = url
    return cluster
